/*
 * rumptest_comp - a stand-in for a rump kernel library (its name starts
 * with librump): two components and a module in NetBSD's link sets.
 */
struct rump_component { int id; };
struct modinfo { const char *name; };

static const struct rump_component comp_a = { 101 }, comp_b = { 102 };
static const struct modinfo mod_x = { "rumptest_mod" };

__attribute__((section("link_set_rump_components"), used))
static const void *const link_comp_a = &comp_a;
__attribute__((section("link_set_rump_components"), used))
static const void *const link_comp_b = &comp_b;
__attribute__((section("link_set_modules"), used))
static const void *const link_mod_x = &mod_x;

int rumptest_symbol_marker(void);
int
rumptest_symbol_marker(void)
{
	return 42;
}

/*
 * A rump kernel library references its link sets' bounds, which makes the
 * linker define and export __start_/__stop_ symbols for them.
 */
extern const void *const __start_link_set_rump_components[];
extern const void *const __stop_link_set_rump_components[];
extern const void *const __start_link_set_modules[];
extern const void *const __stop_link_set_modules[];
long rumptest_nlinks(void);
long
rumptest_nlinks(void)
{
	return (__stop_link_set_rump_components - __start_link_set_rump_components) +
	    (__stop_link_set_modules - __start_link_set_modules);
}
