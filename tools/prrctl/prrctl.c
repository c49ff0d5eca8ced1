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

static const struct {
	const char *name;
	command_fn fn;
} commands[] = {
	{ "add-cpe",	cmd_add_cpe },
	{ "del-cpe",	cmd_del_cpe },
	{ "show",	cmd_show },
	{ "stats",	cmd_stats },
	{ "flush",	cmd_flush },
	{ "set",	cmd_set },
	{ "add-nat",	cmd_add_nat },
	{ "del-nat",	cmd_del_nat },
	{ "save",	cmd_save },
	{ "restore",	cmd_restore },
	{ "help",	cmd_help },
};

static const char help_text[] =
	"Usage: prrctl [OPTIONS] COMMAND\n"
	"       prrctl [OPTIONS] -batch FILE|-\n"
	"\n"
	"Configure prr, the Port Range Router (RFC 6346 A+P).\n"
	"\n"
	"Commands:\n"
	"  add-cpe ADDR port-value V port-mask M via GW [dev IFNAME]\n"
	"      forward packets to ADDR with a port in (V,M) to next hop GW\n"
	"  add-cpe ADDR port-value V port-mask M local|drop\n"
	"      leave such packets to the local stack, or drop them\n"
	"  del-cpe ADDR port-value V port-mask M\n"
	"      remove the entry of exactly this address and port set\n"
	"  show\n"
	"      print the settings, then the entries with their packet and byte\n"
	"      counters (with -j: the entries only)\n"
	"  show config\n"
	"      print the settings of the network namespace\n"
	"  show nat\n"
	"      print the NAT rules of the CPE role\n"
	"  set [source-check on|off] [unowned drop|reject]\n"
	"      source-check: drop packets from a shared address whose source\n"
	"      port (ICMP Identifier) belongs to another CPE than the one they\n"
	"      came from (default on).  unowned: drop packets for a port nobody\n"
	"      owns silently, or reject them with ICMP \"administratively\n"
	"      prohibited\" (default drop)\n"
	"  stats\n"
	"      print the counters of the network namespace\n"
	"  flush\n"
	"      remove every entry of the network namespace\n"
	"  add-nat ADDR from PREFIX/LEN [dev IFNAME]\n"
	"      CPE role: new connections from PREFIX (leaving by IFNAME) get\n"
	"      source address ADDR and a source port (ICMP Identifier) drawn\n"
	"      at random from the local entries of ADDR: this CPE's port set\n"
	"  del-nat from PREFIX/LEN\n"
	"      remove that NAT rule\n"
	"  save\n"
	"      print the settings, the entries and the NAT rules as the lines\n"
	"      of a file that \"restore\" and \"-batch\" read\n"
	"  restore FILE|-\n"
	"      replace every entry and the settings the file names by the\n"
	"      file's add-cpe and set lines, all at once or not at all: packets\n"
	"      meet either the old table or the new one.  Settings the file\n"
	"      does not name keep their value; NAT rules are not replaced (the\n"
	"      file's add-nat lines must be those configured)\n"
	"  help\n"
	"      print this help\n"
	"\n"
	"Options:\n"
	"  -b, -batch FILE    run the commands of FILE (\"-\": standard input),\n"
	"                     one a line without \"prrctl\", \"#\" starting a\n"
	"                     comment; stop at the first failing line\n"
	"  -f, -force         with -batch: go on after a failing line\n"
	"  -j, -json          JSON output of show and stats\n"
	"  -p, -pretty        indent the JSON output\n"
	"  -n, -netns NETNS   run in the network namespace " NETNS_RUN_DIR "/NETNS\n"
	"  -V, -Version       print the version\n"
	"  -h, -help          print this help\n"
	"\n"
	"ADDR and GW are IPv4 addresses; V and M are 16-bit numbers, decimal or\n"
	"0x hex.  A port p belongs to the port set (V,M) iff (p & M) == V\n"
	"(RFC 6431); mask bits need not be contiguous.  Port sets of one address\n"
	"may nest (the one with most mask bits wins) but not partially overlap.\n"
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

static int cmd_help(int argc, char **argv)
{
	if (argc > 0)
		return usage_error("unexpected argument \"%s\"", argv[0]);
	fputs(help_text, stdout);
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
