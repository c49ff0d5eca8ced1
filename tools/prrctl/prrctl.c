// SPDX-License-Identifier: GPL-2.0
/*
 * prrctl: configure prr, the Port Range Router (RFC 6346 "A+P"), over
 * generic netlink.  Global options, network namespace, dispatch and help.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "prrctl.h"

#ifndef PRRCTL_VERSION
#define PRRCTL_VERSION "unknown"
#endif

#define NETNS_RUN_DIR "/run/netns"

struct prrctl_opts opts;

static int cmd_help(int argc, char **argv);

/*
 * Each command: its usage lines (each "CMD ARGS", for "prrctl help" two
 * blanks in, and after "Usage: prrctl " for "prrctl help CMD") and what it
 * does (six blanks in).
 */
static const struct {
	const char *name;
	command_fn fn;
	const char *usage;
	const char *text;
	bool set;		/* takes a SET: print the SET forms */
} commands[] = {
	{ "add-cpe", cmd_add_cpe,
	  "add-cpe ADDR SET via GW [dev IFNAME] [name NAME]\n"
	  "add-cpe ADDR SET local|drop [name NAME]\n",
	  "      forward packets to ADDR with a port in SET to next hop GW, or\n"
	  "      leave them to the local stack, or drop them; NAME labels the\n"
	  "      CPE.  The entries of SET are added all or none\n", true },
	{ "del-cpe", cmd_del_cpe,
	  "del-cpe ADDR SET\n"
	  "del-cpe [ADDR] name NAME\n",
	  "      remove the entries of exactly this address and SET (all or\n"
	  "      none), or every entry named NAME (of ADDR)\n", true },
	{ "show", cmd_show,
	  "show [ADDR] [name NAME]\n"
	  "show config\n"
	  "show nat\n",
	  "      print the settings, then one line per CPE (what one add-cpe\n"
	  "      added), its SET in canonical form, with its packet and byte\n"
	  "      counters; with ADDR or NAME only those CPEs, without the\n"
	  "      settings (with -j: the entries only, one object each).\n"
	  "      config: the settings of the network namespace.  nat: the\n"
	  "      NAT rules of the CPE role\n", false },
	{ "set", cmd_set,
	  "set [source-check on|off] [unowned drop|reject] [entry-counters on|off]\n",
	  "      source-check: drop packets from a shared address whose source\n"
	  "      port (ICMP Identifier) belongs to another CPE than the one they\n"
	  "      came from (default on).  unowned: drop packets for a port nobody\n"
	  "      owns silently, or reject them with ICMP \"administratively\n"
	  "      prohibited\" (default drop).  entry-counters: give the entries\n"
	  "      added from now on packet and byte counters (default on; off\n"
	  "      saves 16 bytes per CPU and entry in big tables)\n", false },
	{ "stats", cmd_stats,
	  "stats\n",
	  "      print the counters of the network namespace\n", false },
	{ "flush", cmd_flush,
	  "flush\n",
	  "      remove every entry of the network namespace\n", false },
	{ "add-nat", cmd_add_nat,
	  "add-nat ADDR from PREFIX/LEN [dev IFNAME]\n",
	  "      CPE role: new connections from PREFIX (leaving by IFNAME) get\n"
	  "      source address ADDR and a source port (ICMP Identifier) drawn\n"
	  "      at random from the local entries of ADDR: this CPE's port set\n",
	  false },
	{ "del-nat", cmd_del_nat,
	  "del-nat from PREFIX/LEN\n",
	  "      remove that NAT rule\n", false },
	{ "save", cmd_save,
	  "save\n",
	  "      print the settings, the CPEs and the NAT rules as the lines\n"
	  "      of a file that \"restore\" and \"-batch\" read\n", false },
	{ "restore", cmd_restore,
	  "restore FILE|-\n",
	  "      replace every entry and the settings the file names by the\n"
	  "      file's add-cpe and set lines, all at once or not at all: packets\n"
	  "      meet either the old table or the new one.  Settings the file\n"
	  "      does not name keep their value; NAT rules are not replaced (the\n"
	  "      file's add-nat lines must be those configured)\n", false },
	{ "monitor", cmd_monitor,
	  "monitor\n",
	  "      print every change of the table (add, replace, del) and of the\n"
	  "      settings as it happens, one line each with the time, until\n"
	  "      interrupted: the RFC 6346 log of port-set assignments\n", false },
	{ "help", cmd_help,
	  "help [COMMAND]\n",
	  "      print this help, or the usage of COMMAND (also\n"
	  "      \"prrctl COMMAND help\")\n", false },
};

static const char help_head[] =
	"Usage: prrctl [OPTIONS] COMMAND\n"
	"       prrctl [OPTIONS] -batch FILE|-\n"
	"\n"
	"Configure prr, the Port Range Router (RFC 6346 A+P).\n"
	"\n"
	"Commands:\n";

static const char help_set[] =
	"SET, the ports of a CPE, is one of (see docs/notations.md):\n"
	"  port-value V port-mask M [port-value V port-mask M]...\n"
	"      the ports p with (p & M) == V (RFC 6431), mask bits need not\n"
	"      be contiguous; several pairs must be disjoint (at most 32)\n"
	"  ports LO-HI | ports PORT\n"
	"      a range, stored as its fewest aligned blocks\n"
	"  psid P psid-len K [psid-offset A]\n"
	"      the MAP port set of RFC 7597 section 5.1 (A defaults to 6; the\n"
	"      ports whose A leading bits are 0 are excluded), A entries\n"
	"  portparams A,P/K | portparams 0xAAKKPPPP | portparams AA:KK:PP:PP\n"
	"      the same as DHCP tools print RFC 7598 / RFC 7618 PORTPARAMS\n";

static const char help_opts[] =
	"\n"
	"Options:\n"
	"  -b, -batch FILE    run the commands of FILE (\"-\": standard input),\n"
	"                     one a line without \"prrctl\", \"#\" starting a\n"
	"                     comment; stop at the first failing line\n"
	"  -f, -force         with -batch: go on after a failing line\n"
	"  -j, -json          JSON output of show, stats and monitor\n"
	"  -p, -pretty        indent the JSON output\n"
	"  -n, -netns NETNS   run in the network namespace " NETNS_RUN_DIR "/NETNS\n"
	"  -V, -Version       print the version\n"
	"  -h, -help          print this help\n"
	"\n";

static const char help_tail[] =
	"\n"
	"ADDR and GW are IPv4 addresses; numbers are decimal or 0x hex.  Port\n"
	"sets of one address may nest (the one with most mask bits wins) but not\n"
	"partially overlap.  NAME: 1-31 printable ASCII characters, no blanks,\n"
	"not starting with #.\n"
	"\n"
	"Exit status: 0 success, 1 the request failed (kernel error, or the prr\n"
	"module is not loaded) or a line of a batch or restore file failed,\n"
	"2 usage error.\n";

int usage_error(const char *fmt, ...)
{
	va_list ap;
	bool held;

	va_start(ap, fmt);
	held = batch_hold_usage(fmt, ap);
	va_end(ap);
	if (held)
		return EXIT_USAGE;
	fputs("prrctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* @lines, the first after @first, the others after @prefix. */
static void print_lines(const char *first, const char *prefix,
			const char *lines)
{
	const char *nl;

	for (; *lines; lines = nl + 1, first = prefix) {
		nl = strchr(lines, '\n');
		printf("%s%.*s\n", first, (int)(nl - lines), lines);
	}
}

static void print_help(void)
{
	size_t i;

	fputs(help_head, stdout);
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		print_lines("  ", "  ", commands[i].usage);
		fputs(commands[i].text, stdout);
	}
	fputs(help_opts, stdout);
	fputs(help_set, stdout);
	fputs(help_tail, stdout);
}

/* "prrctl help CMD" and "prrctl CMD help". */
static int print_command_help(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(name, commands[i].name))
			continue;
		print_lines("Usage: prrctl ", "       prrctl ",
			    commands[i].usage);
		putchar('\n');
		fputs(commands[i].text, stdout);
		if (commands[i].set) {
			putchar('\n');
			fputs(help_set, stdout);
		}
		return EXIT_OK;
	}
	return usage_error("unknown command \"%s\", try \"prrctl help\"",
			   name);
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1)
		return usage_error("unexpected argument \"%s\"", argv[1]);
	if (argc == 1)
		return print_command_help(argv[0]);
	print_help();
	return EXIT_OK;
}

/* Enters the namespace that "ip netns add NAME" created. */
static int enter_netns(const char *name)
{
	char path[sizeof(NETNS_RUN_DIR) + 256];
	int fd, ret;

	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..") || strlen(name) > 255)
		return usage_error("invalid network namespace name \"%s\"",
				   name);
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return usage_error("no such network namespace \"%s\"",
					   name);
		fprintf(stderr, "prrctl: cannot open %s: %s\n", path,
			strerror(errno));
		return EXIT_FAIL;
	}
	ret = setns(fd, CLONE_NEWNET);
	if (ret)
		fprintf(stderr, "prrctl: cannot enter network namespace \"%s\": %s\n",
			name, strerror(errno));
	close(fd);
	return ret ? EXIT_FAIL : EXIT_OK;
}

static bool is_opt(const char *arg, const char *short_form,
		   const char *long_form)
{
	/* iproute2 style: -j, -json and also --json. */
	if (!strcmp(arg, short_form) || !strcmp(arg, long_form))
		return true;
	return arg[0] == '-' && arg[1] == '-' && !strcmp(arg + 1, long_form);
}

#define OPTS_CONTINUE (-1)

/*
 * Parses the options before the command into opts and *next, the index of
 * the command.  Returns OPTS_CONTINUE, or the exit status when done (help,
 * version, usage error).
 */
static int parse_opts(int argc, char **argv, int *next)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];

		if (is_opt(arg, "-j", "-json")) {
			opts.json = true;
		} else if (is_opt(arg, "-p", "-pretty")) {
			opts.pretty = true;
		} else if (is_opt(arg, "-n", "-netns")) {
			if (++i == argc)
				return usage_error("\"%s\" needs a network namespace name",
						   arg);
			opts.netns = argv[i];
		} else if (is_opt(arg, "-b", "-batch")) {
			if (++i == argc)
				return usage_error("\"%s\" needs a file name",
						   arg);
			opts.batch = argv[i];
		} else if (is_opt(arg, "-f", "-force")) {
			opts.force = true;
		} else if (is_opt(arg, "-h", "-help")) {
			return cmd_help(0, NULL);
		} else if (is_opt(arg, "-V", "-Version") ||
			   !strcmp(arg, "--version")) {
			printf("prrctl %s\n", PRRCTL_VERSION);
			return EXIT_OK;
		} else {
			return usage_error("unknown option \"%s\", try \"prrctl help\"",
					   arg);
		}
	}
	*next = i;
	return OPTS_CONTINUE;
}

command_fn find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].fn;
	return NULL;
}

static int run(int argc, char **argv)
{
	const char *name;
	int next = 0, ret;
	size_t i;

	ret = parse_opts(argc, argv, &next);
	if (ret != OPTS_CONTINUE)
		return ret;
	if (opts.batch) {
		if (next < argc)
			return usage_error("unexpected argument \"%s\" after -batch FILE",
					   argv[next]);
		if (opts.netns) {
			ret = enter_netns(opts.netns);
			if (ret)
				return ret;
		}
		return run_batch(opts.batch);
	}
	if (opts.force)
		return usage_error("-force only goes with -batch");
	if (next == argc)
		return usage_error("missing command, try \"prrctl help\"");
	argv += next;
	argc -= next;
	name = argv[0];

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(name, commands[i].name))
			continue;
		/* iproute2 style: "prrctl add-cpe help". */
		if (argc == 2 && !strcmp(argv[1], "help"))
			return print_command_help(name);
		if (opts.netns && commands[i].fn != cmd_help) {
			ret = enter_netns(opts.netns);
			if (ret)
				return ret;
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	return usage_error("unknown command \"%s\", try \"prrctl help\"", name);
}

int main(int argc, char **argv)
{
	int ret = run(argc, argv);

	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "prrctl: cannot write output: %s\n",
			strerror(errno));
		return EXIT_FAIL;
	}
	return ret;
}
