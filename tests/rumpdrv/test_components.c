/*
 * test_components.c - the component model: components registered in this
 * program's linker set are initialised in dependency order and finalised in
 * reverse; an unknown component, a dependency that is not listed or not
 * linked, a cycle, and a failing init are refused with a message naming
 * them, and a failing init finalises what was already up.
 */
#include "kern/kern.h"
#include "rdtest.h"

static char trace[256];

static void
note(const char *s)
{
	strncat(trace, s, sizeof(trace) - strlen(trace) - 1);
}

#define TC(id, needs, rv)						\
	static int id##_init(void) { note("+" #id); return rv; }	\
	static void id##_fini(void) { note("-" #id); }			\
	RUMPDRV_COMPONENT(id, #id, needs, id##_init, id##_fini)

TC(alpha, "", 0);
TC(beta, "alpha", 0);
TC(gamma, "beta, alpha", 0);
TC(loopa, "loopb", 0);
TC(loopb, "loopc", 0);
TC(loopc, "loopa", 0);
TC(orphan, "ghost", 0);
TC(broken, "alpha", EIO);

int
main(void)
{
	char err[256];

	CHECK(krs_boot("alpha,nosuch", err, sizeof(err)) == -1 &&
	    strstr(err, "unknown component nosuch") != NULL, "unknown: %s", err);
	CHECK(trace[0] == '\0', "nothing initialised on refusal");
	PASS("unknown component refused, named in the error");

	CHECK(krs_boot("gamma,beta", err, sizeof(err)) == -1 &&
	    strstr(err, "needs alpha, which is not in the list") != NULL,
	    "unlisted dep: %s", err);
	CHECK(krs_boot("orphan", err, sizeof(err)) == -1 &&
	    strstr(err, "orphan needs ghost, which is not linked in") != NULL,
	    "missing dep: %s", err);
	PASS("dependency not listed / not linked refused, both names given");

	CHECK(krs_boot("alpha loopa loopb loopc", err, sizeof(err)) == -1 &&
	    strstr(err, "dependency cycle: loopa -> loopb -> loopc -> loopa") != NULL,
	    "cycle: %s", err);
	PASS("cycle refused with the cycle spelled out");

	CHECK(krs_boot("gamma beta alpha", err, sizeof(err)) == 0, "boot: %s", err);
	CHECK(strcmp(trace, "+alpha+beta+gamma") == 0, "init order %s", trace);
	CHECK(component_is_up("beta") && !component_is_up("broken"), "is_up");
	CHECK(krs_boot("alpha", err, sizeof(err)) == -1, "double boot refused");
	krs_shutdown();
	CHECK(strcmp(trace, "+alpha+beta+gamma-gamma-beta-alpha") == 0,
	    "fini order %s", trace);
	PASS("listed components initialised in dependency order, finalised in reverse");

	trace[0] = '\0';
	CHECK(krs_boot("alpha,beta,broken", err, sizeof(err)) == -1 &&
	    strstr(err, "component broken: init failed") != NULL, "failing init: %s", err);
	CHECK(strcmp(trace, "+alpha+beta+broken-beta-alpha") == 0 ||
	    strcmp(trace, "+alpha+broken-alpha") == 0, "rollback %s", trace);
	CHECK(!component_is_up("alpha"), "rolled back");
	PASS("failing init reported by name; initialised components finalised");

	trace[0] = '\0';
	CHECK(krs_boot("beta,alpha", err, sizeof(err)) == 0 &&
	    strcmp(trace, "+alpha+beta") == 0, "reboot after failure: %s", trace);
	krs_shutdown();
	DONE();
}
