/*
 * krankctl - talk to a running KRANK over its control socket
 * (krk_ctl_proto.h): send the command line as one request, print the
 * answer.  `capture` turns the streamed frame records into a pcap file
 * with libpcap.  Exit status: 0 done, 1 KRANK refused or failed the
 * command, 2 usage error or KRANK could not be reached.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "krk_ctl_proto.h"

#define EXIT_FAILED	1
#define EXIT_USAGE	2

static const char *sock_path;
static volatile sig_atomic_t interrupted;

static const char usage_text[] =
"NAME\n"
"    krankctl - control a running KRANK\n"
"\n"
"SYNOPSIS\n"
"    krankctl [-s SOCKET | -n NAME] [--json] COMMAND [ARGS...]\n"
"    krankctl --help | --version\n"
"\n"
"DESCRIPTION\n"
"    krankctl sends COMMAND to a KRANK process over its control socket and\n"
"    prints the answer: a table for people, or JSON with --json.\n"
"\n"
"OPTIONS\n"
"    -s, --socket SOCKET  the control socket; by default the only *.sock in\n"
"                         " KRK_CTL_RUN_DIR " (an error names them when several)\n"
"    -n, --name NAME      the control socket of deployment NAME,\n"
"                         " KRK_CTL_RUN_DIR "/NAME.sock (krank@NAME.service's)\n"
"    -j, --json           print JSON instead of a table\n"
"    -h, --help           this text\n"
"    -V, --version        krankctl's version and protocol number\n"
"\n"
"COMMANDS\n"
"    ps                   the isolates: id, name, state, core, restarts, CPU\n"
"                         time, heap, ELF, and exit status or fault; then\n"
"                         the foreign ones (Linux processes): pid, uid,\n"
"                         state, rings, calls served, KRANK descriptors\n"
"    top [--interval D]   per isolate over an interval (default 1s): CPU time\n"
"                         and share, system calls/s, heap in use/limit,\n"
"                         descriptors\n"
"    spawn [--name N] [--core C] [--lax] [--hardened] ELF [ARGS...]\n"
"                         start an isolate from ELF (a path on KRANK's host);\n"
"                         --lax: the loader only warns about syscall\n"
"                         encodings hidden inside other instructions;\n"
"                         --hardened: its threads run under a seccomp\n"
"                         filter, their KRANK calls go through a gate\n"
"    spawn --foreign [--name N] [--user U] [--] CMD [ARGS...]\n"
"                         start CMD (searched in KRANK's PATH) as a Linux\n"
"                         process attached to KRANK as a foreign isolate\n"
"                         (LD_PRELOAD=the preload library, KRANK_ATTACH=\n"
"                         the attach socket); ps shows it by its pid;\n"
"                         --user: as user U (name or uid, one attach.users\n"
"                         allows) instead of KRANK's own user\n"
"    kill ID|NAME [SIG]   end an isolate (no restart follows); a foreign\n"
"                         one KRANK started gets SIG (default TERM) through\n"
"                         its pidfd, another has its attachment ended\n"
"    wait ID|NAME [--timeout D]\n"
"                         wait until the isolate has ended; print its state\n"
"                         (a foreign one's exit status or signal)\n"
"    restart ID|NAME      kill (if running) and start again\n"
"    ifconfig             interfaces, addresses and counters\n"
"    netstat              TCP connections with their states, UDP sockets\n"
"    mounts               KRANK's mounted file systems\n"
"    df                   their size, use and inodes\n"
"    log                  KRANK's log ring, oldest line first\n"
"    metrics              counters in the Prometheus text format\n"
"    capture IFACE FILE [--count N] [--duration D]\n"
"                         write IFACE's frames (both ways) to FILE in pcap\n"
"                         format (- for standard output) until N frames, D\n"
"                         elapsed or Ctrl-C\n"
"    version              KRANK's version and protocol number\n"
"\n"
"    Durations: 500ms, 2s, 1.5 (seconds), 1m.\n"
"\n"
"EXIT STATUS\n"
"    0  the command succeeded\n"
"    1  KRANK answered with an error (no such isolate, ...)\n"
"    2  usage error, or the socket could not be used (no KRANK, permission\n"
"       denied, protocol error)\n"
"\n"
"EXAMPLES\n"
"    krankctl ps\n"
"    krankctl --json top --interval 500ms\n"
"    krankctl spawn --name echo --core 2 /srv/echo.kld 7\n"
"    krankctl capture krank0 /tmp/k.pcap --duration 5s && tcpdump -r /tmp/k.pcap\n"
"\n"
"SEE ALSO\n"
"    krank(8), krank-deployment(5), tcpdump(8)\n";

static void __attribute__((format(printf, 2, 3), noreturn))
die(int status, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "krankctl: ");
	if (sock_path != NULL)
		fprintf(stderr, "%s: ", sock_path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* The only *.sock in the run directory. */
static const char *
find_socket(void)
{
	static char found[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char list[1024] = "";
	int n = 0;
	struct dirent **ents;
	int ne = scandir(KRK_CTL_RUN_DIR, &ents, NULL, alphasort);
	if (ne < 0) {
		fprintf(stderr, "krankctl: no KRANK is running: cannot open %s "
		    "(%s); give the socket with -s\n", KRK_CTL_RUN_DIR,
		    strerror(errno));
		exit(EXIT_USAGE);
	}
	for (int i = 0; i < ne; i++) {
		char nm[256];
		snprintf(nm, sizeof(nm), "%s", ents[i]->d_name);
		free(ents[i]);
		size_t l = strlen(nm);
		char p[sizeof(found) + 300];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", KRK_CTL_RUN_DIR, nm);
		if (l < 6 || strcmp(nm + l - 5, ".sock") != 0 ||
		    stat(p, &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (strlen(p) >= sizeof(found))
			continue;		/* cannot be connected to anyway */
		if (n++ == 0)
			memcpy(found, p, strlen(p) + 1);
		size_t ll = strlen(list);
		snprintf(list + ll, sizeof(list) - ll, "%s%s", ll ? " " : "", p);
	}
	free(ents);
	if (n == 0) {
		fprintf(stderr, "krankctl: no KRANK is running: no *.sock in %s; "
		    "give the socket with -s\n", KRK_CTL_RUN_DIR);
		exit(EXIT_USAGE);
	}
	if (n > 1) {
		fprintf(stderr, "krankctl: %d KRANKs are running; choose one with "
		    "-s: %s\n", n, list);
		exit(EXIT_USAGE);
	}
	return found;
}

static int
connect_socket(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(sock_path) >= sizeof(a.sun_path))
		die(EXIT_USAGE, "socket path longer than %zu bytes",
		    sizeof(a.sun_path) - 1);
	strcpy(a.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(EXIT_USAGE, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;
		die(EXIT_USAGE, "cannot connect: %s%s", strerror(e),
		    e == ECONNREFUSED ? " (no KRANK answers: stale socket)" :
		    e == EACCES ? " (run as root or as a member of the socket's "
		    "group)" : "");
	}
	return fd;
}

static void
send_request(int fd, int argc, char **argv, bool json)
{
	char buf[KRK_CTL_MAX_REQ];
	size_t len = 0;
	if (argc + (json ? 1 : 0) > KRK_CTL_MAX_ARGS)
		die(EXIT_USAGE, "too many arguments (at most %d)",
		    KRK_CTL_MAX_ARGS - 1);
	for (int i = 0; i <= argc; i++) {
		const char *s = i < argc ? argv[i] : (json ? "--json" : NULL);
		if (s == NULL)
			break;
		size_t l = strlen(s) + 1;
		if (len + l + 1 > sizeof(buf))
			die(EXIT_USAGE, "request longer than %d bytes",
			    KRK_CTL_MAX_REQ);
		memcpy(buf + len, s, l);
		len += l;
	}
	buf[len++] = '\0';
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 && (errno == EPIPE || errno == ECONNRESET))
			return;	/* KRANK closed early: its answer says why */
		if (n <= 0)
			die(EXIT_USAGE, "sending the request: %s", strerror(errno));
		off += (size_t)n;
	}
}

/* Read exactly n bytes; false at a clean end of stream before any. */
static bool
read_full(int fd, void *buf, size_t n, bool eof_ok)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR) {
			if (interrupted)
				return false;
			continue;
		}
		if (r < 0)
			die(EXIT_USAGE, "reading the answer: %s", strerror(errno));
		if (r == 0) {
			if (got == 0 && eof_ok)
				return false;
			die(EXIT_USAGE, "protocol error: the answer ended early");
		}
		got += (size_t)r;
	}
	return true;
}

/* The status line: returns on "ok", exits 1 with KRANK's message. */
static void
read_status(int fd)
{
	char line[1024];
	size_t n = 0;
	for (;;) {
		if (n == sizeof(line) - 1)
			die(EXIT_USAGE, "protocol error: status line too long");
		ssize_t r = read(fd, line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(EXIT_USAGE, "reading the answer: %s", strerror(errno));
		if (r == 0)
			die(EXIT_USAGE, "KRANK closed the connection without an "
			    "answer");
		if (n == 0 && line[0] != 'o' && line[0] != 'e')
			die(EXIT_USAGE, "protocol error: not a KRANK control "
			    "socket");
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (strcmp(line, "ok") == 0)
		return;
	if (strncmp(line, "error: ", 7) == 0)
		die(EXIT_FAILED, "%s", line + 7);
	die(EXIT_USAGE, "protocol error: unexpected answer \"%.60s\"", line);
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int
do_capture(int argc, char **argv)
{
	/* capture IFACE FILE [--count N] [--duration D]: FILE stays here. */
	if (argc < 3 || argv[1][0] == '-' || (argv[2][0] == '-' &&
	    argv[2][1] != '\0'))
		die(EXIT_USAGE, "capture: usage: capture IFACE FILE [--count N] "
		    "[--duration D] (FILE - for standard output)");
	const char *file = argv[2];
	char *fwd[KRK_CTL_MAX_ARGS];
	int nf = 0;
	for (int i = 0; i < argc && nf < KRK_CTL_MAX_ARGS; i++)
		if (i != 2)
			fwd[nf++] = argv[i];

	pcap_t *pd = pcap_open_dead(DLT_EN10MB, KRK_CTL_CAP_SNAPLEN);
	if (pd == NULL)
		die(EXIT_USAGE, "capture: pcap_open_dead failed");
	int fd = connect_socket();
	send_request(fd, nf, fwd, false);
	read_status(fd);
	pcap_dumper_t *dump = pcap_dump_open(pd, file);
	if (dump == NULL)
		die(EXIT_USAGE, "capture: %s: %s", file, pcap_geterr(pd));

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	unsigned char *frame = malloc(KRK_CTL_CAP_ALIGN(KRK_CTL_CAP_SNAPLEN));
	if (frame == NULL)
		die(EXIT_USAGE, "capture: out of memory");
	uint64_t n = 0, drops = 0;
	bool ended = false;
	while (!interrupted) {
		struct krk_ctl_caprec h;
		if (!read_full(fd, &h, sizeof(h), true))
			break;
		if (h.magic != KRK_CTL_CAP_MAGIC || h.version !=
		    KRK_CTL_PROTO_VERSION || h.caplen > KRK_CTL_CAP_SNAPLEN)
			die(EXIT_USAGE, "capture: protocol error: bad record "
			    "(magic %#x version %u length %u)", h.magic,
			    h.version, h.caplen);
		if (h.flags & KRK_CTL_CAP_END) {
			drops = h.drops;
			ended = true;
			break;
		}
		read_full(fd, frame, KRK_CTL_CAP_ALIGN(h.caplen), false);
		struct pcap_pkthdr ph;
		ph.ts.tv_sec = (time_t)(h.ts_ns / 1000000000u);
		ph.ts.tv_usec = (suseconds_t)(h.ts_ns % 1000000000u / 1000u);
		ph.caplen = h.caplen;
		ph.len = h.origlen;
		pcap_dump((u_char *)dump, &ph, frame);
		n++;
	}
	pcap_dump_close(dump);
	pcap_close(pd);
	free(frame);
	close(fd);
	if (strcmp(file, "-") != 0)
		fprintf(stderr, "krankctl: %s: %llu frames written%s, %llu "
		    "dropped by KRANK\n", file, (unsigned long long)n,
		    ended ? "" : " (interrupted)", (unsigned long long)drops);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static char named[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool json = false;
	int c;
	/* "+": options end at the command, whose own options pass through. */
	while ((c = getopt_long(argc, argv, "+s:n:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock_path = optarg;
			break;
		case 'n':
			/* A name, not a path: "../x" must not reach outside. */
			if (optarg[0] == '\0' || strchr(optarg, '/') != NULL ||
			    (size_t)snprintf(named, sizeof(named), "%s/%s.sock",
			    KRK_CTL_RUN_DIR, optarg) >= sizeof(named)) {
				fprintf(stderr, "krankctl: --name %s: not a "
				    "deployment name (empty, with a '/', or too "
				    "long for a socket path)\n", optarg);
				return EXIT_USAGE;
			}
			sock_path = named;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("krankctl %s, control protocol %d\n",
			    PACKAGE_VERSION, KRK_CTL_PROTO_VERSION);
			return 0;
		default:
			fprintf(stderr, "krankctl: try krankctl --help\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "krankctl: no command given; try krankctl --help\n");
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (sock_path == NULL)
		sock_path = find_socket();

	/* attach hands over a memfd and holds the connection for the
	 * attachment's life: a program's business (krq_attach), not ours. */
	if (strcmp(argv[0], "attach") == 0)
		die(EXIT_USAGE, "attach is for programs (krq_attach in "
		    "libkrank): it passes a queue region and keeps the "
		    "connection open");
	if (strcmp(argv[0], "chanpool") == 0)
		die(EXIT_USAGE, "chanpool is for programs (krq_chan_map in "
		    "libkrank): it passes a channel's buffer pool as a memfd");
	if (strcmp(argv[0], "capture") == 0) {
		if (json)
			die(EXIT_USAGE, "capture writes pcap; --json does not "
			    "apply");
		return do_capture(argc, argv);
	}
	/* KRANK resolves the ELF from its own working directory: send the
	 * path as this shell means it. */
	static char elf_abs[PATH_MAX];
	if (strcmp(argv[0], "spawn") == 0 && argc > 1 &&
	    strcmp(argv[1], "--foreign") == 0) {
		/* A command with a slash is a path from here; one without
		 * is looked up in KRANK's PATH, as a shell would. */
		int i = 2;
		while (i + 1 < argc && (strcmp(argv[i], "--name") == 0 ||
		    strcmp(argv[i], "--user") == 0))
			i += 2;
		if (i < argc && strcmp(argv[i], "--") == 0)
			i++;
		if (i < argc && argv[i][0] != '/' && strchr(argv[i], '/') &&
		    realpath(argv[i], elf_abs) != NULL)
			argv[i] = elf_abs;
	} else if (strcmp(argv[0], "spawn") == 0) {
		int i = 1;
		while (i < argc && (strcmp(argv[i], "--name") == 0 ||
		    strcmp(argv[i], "--core") == 0 ||
		    strcmp(argv[i], "--lax") == 0 ||
		    strcmp(argv[i], "--hardened") == 0))
			i += strcmp(argv[i], "--lax") == 0 ||
			    strcmp(argv[i], "--hardened") == 0 ? 1 : 2;
		if (i < argc && strcmp(argv[i], "--") == 0)
			i++;
		if (i < argc && argv[i][0] != '/' && argv[i][0] != '-' &&
		    realpath(argv[i], elf_abs) != NULL)
			argv[i] = elf_abs;
	}
	int fd = connect_socket();
	send_request(fd, argc, argv, json);
	read_status(fd);
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_USAGE, "reading the answer: %s", strerror(errno));
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			die(EXIT_USAGE, "writing standard output: %s",
			    strerror(errno));
	}
	close(fd);
	if (fflush(stdout) != 0)
		die(EXIT_USAGE, "writing standard output: %s", strerror(errno));
	return 0;
}
