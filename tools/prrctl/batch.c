// SPDX-License-Identifier: GPL-2.0
/*
 * prrctl: "-batch FILE" and "restore FILE".
 *
 * A batch file holds prrctl commands without the program name, one a line,
 * "#" starting a comment.  The commands that change something do not talk
 * to the kernel themselves: request_ack() hands their request to
 * batch_queue(), which packs many requests into one sendmsg() and matches
 * the answers to the lines by sequence number.  The kernel runs the
 * requests of a sendmsg() one after the other and answers each failure, so
 * only the last request asks for an ack (prr_nl_send_batch()): a pack of
 * accepted lines costs the kernel one ack, not one per line.
 *
 * -batch stops at the first failing line, like "ip -batch": the lines before
 * it stay applied, the lines after it do not.  As a pack may already carry
 * lines after the failing one, a pack holds only requests that can be undone
 * after the first one (add-cpe, add-nat): should a line fail, the adds after
 * it that the kernel accepted are deleted again.  With -force every line
 * runs, and every request packs.
 *
 * restore parses the whole file first (a usage error changes nothing), then
 * loads it into the namespace's staging table (PRR_CMD_REPLACE_BEGIN,
 * requests with PRR_A_STAGED) and swaps it in with PRR_CMD_REPLACE_COMMIT,
 * or abandons it with PRR_CMD_REPLACE_ABORT at the first error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>

#include "prrctl.h"
#include "genl.h"

#define BATCH_BYTES		65536	/* requests per sendmsg() */
#define BATCH_MAX_REQ		1024	/* bytes one request may take */
/* add-cpe ADDR, 32 port-value/port-mask pairs, via GW dev IF name N */
#define BATCH_MAX_WORDS		256
#define BATCH_WHERE_SIZE	64

enum batch_mode {
	BATCH_LINES,		/* -batch: apply line by line */
	BATCH_CHECK,		/* restore, first pass: parse only */
	BATCH_STAGE,		/* restore, second pass: into the staging table */
};

struct batch_req {
	unsigned int line;
	__u8 cmd;
};

struct batch {
	enum batch_mode mode;
	bool force;
	const char *name;	/* "batch" or "restore", for messages */
	struct prr_nl nl;
	bool nl_open;
	char *buf;
	struct mnl_nlmsg_batch *b;
	struct batch_req *reqs;
	unsigned int n;		/* requests in the pack */
	unsigned int max;	/* requests a pack may hold (acks that fit) */
	unsigned int first_seq;
	unsigned int line;	/* the line being parsed */
	char where[BATCH_WHERE_SIZE];
	bool failed;		/* a line failed */
	bool stop;		/* stop reading lines */
	unsigned int undo;	/* requests to undo after a failure */
	char *undo_buf;
	unsigned long long applied;	/* requests the kernel accepted */
	struct prr_nats file_nats;	/* restore: the file's NAT rules */
	unsigned int *nat_lines;
};

static struct batch *cur;
static struct batch *holding;	/* whose lines' usage errors are held */

bool batch_active(void)
{
	return cur;
}

/* Sets the "batch line N: " prefix of messages about line @line. */
static void batch_where(struct batch *bt, unsigned int line)
{
	snprintf(bt->where, sizeof(bt->where), "%s line %u: ", bt->name,
		 line);
	prr_nl_where = bt->where;
}

static void batch_fail(struct batch *bt)
{
	bt->failed = true;
	if (!bt->force)
		bt->stop = true;
}

static int batch_open(struct batch *bt)
{
	int ret;

	if (bt->nl_open)
		return EXIT_OK;
	prr_nl_where = NULL;
	ret = prr_nl_open(&bt->nl);
	if (ret) {
		if (bt->nl.no_family)
			fprintf(stderr,
				"prrctl: the prr kernel module is not loaded (try \"modprobe prr\")\n");
		else
			prr_nl_report(&bt->nl, ret);
		bt->failed = true;
		bt->stop = true;
		return EXIT_FAIL;
	}
	bt->nl_open = true;
	bt->max = prr_nl_ack_room(&bt->nl, BATCH_BYTES / 64);
	return EXIT_OK;
}

/* The undo of an accepted add: the delete of the same key. */
static void batch_put_undo(struct batch *bt, const struct nlmsghdr *req,
			   struct mnl_nlmsg_batch *ub)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(req);
	struct nlmsghdr *nlh;
	const struct nlattr *a;
	__u8 cmd;

	cmd = genl->cmd == PRR_CMD_NEW_ENTRY ? PRR_CMD_DEL_ENTRY :
					       PRR_CMD_DEL_NAT;
	nlh = prr_nl_request_at(&bt->nl, mnl_nlmsg_batch_current(ub), cmd, 0);
	mnl_attr_for_each(a, req, sizeof(*genl)) {
		unsigned int type = mnl_attr_get_type(a);

		/*
		 * DEL_ENTRY takes the address and the pieces (never the name:
		 * it would take other CPEs of that name along); DEL_NAT
		 * ignores nothing.
		 */
		if (cmd == PRR_CMD_DEL_ENTRY && type > PRR_A_PORT_MASK &&
		    type != PRR_A_PIECES)
			continue;
		mnl_attr_put(nlh, type, mnl_attr_get_payload_len(a),
			     mnl_attr_get_payload(a));
	}
	mnl_nlmsg_batch_next(ub);
}

struct batch_ack_state {
	struct batch *bt;
	struct mnl_nlmsg_batch *ub;	/* undo requests, or NULL */
	const char *pos;		/* the request being acked */
};

static void batch_ack(struct prr_nl *nl, unsigned int idx, int error,
		      void *data)
{
	struct batch_ack_state *st = data;
	struct batch *bt = st->bt;
	const struct nlmsghdr *req;
	bool reported_stop = bt->stop;

	/* Requests are acked in order: walk the pack alongside. */
	req = (const struct nlmsghdr *)st->pos;
	st->pos += NLMSG_ALIGN(req->nlmsg_len);

	if (!error) {
		bt->applied++;
		if (reported_stop && st->ub)
			batch_put_undo(bt, req, st->ub);
		else if (nl->warning[0] && !reported_stop)
			fprintf(stderr, "prrctl: %s line %u: Warning: %s.\n",
				bt->name, bt->reqs[idx].line, nl->warning);
		return;
	}
	if (reported_stop)
		return;		/* past the line that stopped the batch */
	batch_where(bt, bt->reqs[idx].line);
	prr_nl_note_piece(nl, req);
	prr_nl_report(nl, -error);
	batch_fail(bt);
}

/* Sends the requests of a pack and reads the answers back. */
static int batch_send(struct batch *bt, void *buf, size_t len,
		      unsigned int first_seq, unsigned int n,
		      struct batch_ack_state *st)
{
	int ret;

	ret = prr_nl_send_batch(&bt->nl, buf, len, first_seq, n, batch_ack,
				st);
	if (ret) {
		prr_nl_where = NULL;
		fprintf(stderr,
			"prrctl: %s line %u: Error: lost the kernel's answer: %s.\n",
			bt->name, bt->reqs[0].line, strerror(-ret));
		bt->failed = true;
		bt->stop = true;
	}
	return ret;
}

static void batch_undo_ack(struct prr_nl *nl, unsigned int idx, int error,
			   void *data)
{
	unsigned int *failures = data;

	(void)nl;
	(void)idx;
	if (error)
		(*failures)++;
}

/* Deletes again the adds a failed pack applied after the failing line. */
static void batch_send_undo(struct batch *bt, struct mnl_nlmsg_batch *ub)
{
	const char *p = mnl_nlmsg_batch_head(ub);
	size_t len = mnl_nlmsg_batch_size(ub);
	unsigned int n = 0, failures = 0, first;
	const struct nlmsghdr *nlh;
	int ret;

	if (!len)
		return;
	first = ((const struct nlmsghdr *)p)->nlmsg_seq;
	while (len > 0) {
		nlh = (const struct nlmsghdr *)p;
		p += NLMSG_ALIGN(nlh->nlmsg_len);
		len -= NLMSG_ALIGN(nlh->nlmsg_len);
		n++;
	}
	ret = prr_nl_send_batch(&bt->nl, mnl_nlmsg_batch_head(ub),
				mnl_nlmsg_batch_size(ub), first, n,
				batch_undo_ack, &failures);
	if (ret || failures)
		fprintf(stderr,
			"prrctl: %s: Warning: could not undo every line after the failing one.\n",
			bt->name);
}

/* Sends the pending pack; reports the lines the kernel refused. */
static int batch_flush(struct batch *bt)
{
	struct batch_ack_state st = { .bt = bt };
	struct mnl_nlmsg_batch *ub = NULL;
	unsigned int n = bt->n;

	if (!n)
		return bt->stop ? EXIT_FAIL : EXIT_OK;
	bt->n = 0;
	if (bt->mode == BATCH_LINES && !bt->force) {
		ub = mnl_nlmsg_batch_start(bt->undo_buf, BATCH_BYTES);
		if (!ub) {
			fprintf(stderr, "prrctl: out of memory\n");
			bt->failed = true;
			bt->stop = true;
			return EXIT_FAIL;
		}
	}
	st.ub = ub;
	st.pos = mnl_nlmsg_batch_head(bt->b);
	batch_send(bt, mnl_nlmsg_batch_head(bt->b),
		   mnl_nlmsg_batch_size(bt->b), bt->first_seq, n, &st);
	mnl_nlmsg_batch_reset(bt->b);
	if (ub) {
		if (bt->stop)
			batch_send_undo(bt, ub);
		mnl_nlmsg_batch_stop(ub);
	}
	return bt->stop ? EXIT_FAIL : EXIT_OK;
}

/* Requests that can be undone, and so may follow others in a pack. */
static bool batch_undoable(__u8 cmd)
{
	return cmd == PRR_CMD_NEW_ENTRY || cmd == PRR_CMD_NEW_NAT;
}

/* restore: the file's NAT rules are checked against the kernel's. */
static int batch_note_nat(struct batch *bt, const struct nlmsghdr *nlh)
{
	struct prr_nats *nats = &bt->file_nats;
	const struct nlattr *a;
	struct prr_nat *nat;

	if (nats->n == nats->cap) {
		size_t cap = nats->cap ? 2 * nats->cap : 16;
		struct prr_nat *v = realloc(nats->v, cap * sizeof(*v));
		unsigned int *l = realloc(bt->nat_lines, cap * sizeof(*l));

		if (v)
			nats->v = v;
		if (l)
			bt->nat_lines = l;
		if (!v || !l) {
			fprintf(stderr, "prrctl: out of memory\n");
			return EXIT_FAIL;
		}
		nats->cap = cap;
	}
	bt->nat_lines[nats->n] = bt->line;
	nat = &nats->v[nats->n++];
	memset(nat, 0, sizeof(*nat));
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case PRR_A_ADDR:
			nat->addr.s_addr = mnl_attr_get_u32(a);
			break;
		case PRR_A_NAT_PREFIX:
			nat->prefix.s_addr = mnl_attr_get_u32(a);
			break;
		case PRR_A_NAT_PREFIX_LEN:
			nat->plen = mnl_attr_get_u8(a);
			break;
		case PRR_A_OIF:
			nat->has_oif = true;
			nat->oif = mnl_attr_get_u32(a);
			break;
		}
	}
	return EXIT_OK;
}

int batch_queue(__u8 cmd, put_attrs_t put, const void *arg)
{
	struct batch *bt = cur;
	struct nlmsghdr *nlh;
	char scratch[BATCH_MAX_REQ];

	if (bt->mode == BATCH_CHECK) {
		if (cmd != PRR_CMD_NEW_NAT)
			return EXIT_OK;
		nlh = prr_nl_request_at(&bt->nl, scratch, cmd, 0);
		put(nlh, arg);
		return batch_note_nat(bt, nlh);
	}
	if (bt->mode == BATCH_STAGE && cmd == PRR_CMD_NEW_NAT)
		return EXIT_OK;	/* checked, not changed: see cmd_restore() */
	if (batch_open(bt))
		return EXIT_FAIL;
	if (bt->n && (bt->n >= bt->max ||
		      mnl_nlmsg_batch_size(bt->b) + BATCH_MAX_REQ >
		      BATCH_BYTES ||
		      (bt->mode == BATCH_LINES && !bt->force &&
		       !batch_undoable(cmd)))) {
		if (batch_flush(bt))
			return EXIT_FAIL;
	}
	if (bt->stop)
		return EXIT_FAIL;

	nlh = prr_nl_request_at(&bt->nl, mnl_nlmsg_batch_current(bt->b), cmd,
				0);
	if (!bt->n)
		bt->first_seq = nlh->nlmsg_seq;
	if (put)
		put(nlh, arg);
	if (bt->mode == BATCH_STAGE)
		mnl_attr_put(nlh, PRR_A_STAGED, 0, NULL);
	mnl_nlmsg_batch_next(bt->b);
	bt->reqs[bt->n].line = bt->line;
	bt->reqs[bt->n].cmd = cmd;
	bt->n++;
	return EXIT_OK;
}

/* Usage errors of a line are held until the lines before it are sent. */
static char usage_msg[512];
static bool usage_held;

bool batch_hold_usage(const char *fmt, va_list ap)
{
	if (!holding)
		return false;
	vsnprintf(usage_msg, sizeof(usage_msg), fmt, ap);
	usage_held = true;
	return true;
}

static void batch_print_usage(struct batch *bt)
{
	fprintf(stderr, "prrctl: %s line %u: %s\n", bt->name, bt->line,
		usage_msg);
	usage_held = false;
}

/* Splits @line into words at blanks; "#" starts a comment. */
static int split_words(char *line, char **words)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == BATCH_MAX_WORDS)
			return -1;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' &&
		       *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

/* Commands that only read may run in a batch, after the pending writes. */
static bool is_read_command(const char *name)
{
	return !strcmp(name, "show") || !strcmp(name, "stats") ||
	       !strcmp(name, "help") || !strcmp(name, "save");
}

static bool is_restore_command(const char *name)
{
	return !strcmp(name, "add-cpe") || !strcmp(name, "set") ||
	       !strcmp(name, "add-nat");
}

/* Runs a command that only reads, after the writes before it. */
static void batch_read_line(struct batch *bt, command_fn fn, int argc,
			    char **argv)
{
	int ret;

	if (batch_flush(bt))
		return;
	batch_where(bt, bt->line);
	cur = NULL;	/* the command talks to the kernel itself */
	fflush(stdout);
	ret = fn(argc, argv);
	fflush(stdout);
	cur = bt;
	prr_nl_where = NULL;
	if (usage_held) {
		batch_print_usage(bt);
		batch_fail(bt);
	} else if (ret) {
		batch_fail(bt);
	}
}

/* Runs (or, in BATCH_CHECK, parses) one line. */
static void batch_line(struct batch *bt, char *text)
{
	char *words[BATCH_MAX_WORDS];
	command_fn fn = NULL;
	int n;

	n = split_words(text, words);
	if (n == 0)
		return;
	if (n > 0 && strcmp(words[0], "restore"))
		fn = find_command(words[0]);
	if (n < 0) {
		usage_error("more than %d words", BATCH_MAX_WORDS);
	} else if (!fn) {
		usage_error("unknown command \"%s\"", words[0]);
	} else if (bt->mode != BATCH_LINES && !is_restore_command(words[0])) {
		usage_error("\"%s\" is not for restore: add-cpe, add-nat, set",
			    words[0]);
	} else if (is_read_command(words[0])) {
		batch_read_line(bt, fn, n - 1, words + 1);
		return;
	} else if (fn(n - 1, words + 1) && !usage_held) {
		batch_fail(bt);
	}
	if (!usage_held)
		return;
	/* The lines before this one first: they may have failed too. */
	if (bt->mode == BATCH_LINES && batch_flush(bt)) {
		usage_held = false;
		return;
	}
	batch_print_usage(bt);
	batch_fail(bt);
}

static FILE *batch_fopen(const char *file)
{
	FILE *f;

	if (!strcmp(file, "-"))
		return stdin;
	f = fopen(file, "r");
	if (!f)
		fprintf(stderr, "prrctl: cannot open %s: %s\n", file,
			strerror(errno));
	return f;
}

static int batch_init(struct batch *bt, enum batch_mode mode,
		      const char *name)
{
	memset(bt, 0, sizeof(*bt));
	bt->mode = mode;
	bt->force = opts.force;
	bt->name = name;
	bt->buf = malloc(2 * BATCH_BYTES);
	bt->undo_buf = malloc(2 * BATCH_BYTES);
	bt->reqs = calloc(BATCH_BYTES / 16, sizeof(*bt->reqs));
	if (bt->buf && bt->undo_buf && bt->reqs)
		bt->b = mnl_nlmsg_batch_start(bt->buf, BATCH_BYTES);
	if (!bt->b) {
		fprintf(stderr, "prrctl: out of memory\n");
		return EXIT_FAIL;
	}
	/* Before the socket exists: the sequence numbers of the pack. */
	bt->nl.seq = time(NULL);
	return EXIT_OK;
}

static void batch_fini(struct batch *bt)
{
	if (bt->b)
		mnl_nlmsg_batch_stop(bt->b);
	if (bt->nl_open)
		prr_nl_close(&bt->nl);
	free(bt->buf);
	free(bt->undo_buf);
	free(bt->reqs);
	free(bt->file_nats.v);
	free(bt->nat_lines);
	prr_nl_where = NULL;
	cur = NULL;
	holding = NULL;
}

/* Reads @f line by line through batch_line(). */
static void batch_run_file(struct batch *bt, FILE *f)
{
	char *text = NULL;
	size_t size = 0;

	cur = bt;
	holding = bt;
	bt->line = 0;
	while (!bt->stop && getline(&text, &size, f) >= 0) {
		bt->line++;
		batch_line(bt, text);
	}
	if (ferror(f)) {
		fprintf(stderr, "prrctl: cannot read the %s file: %s\n",
			bt->name, strerror(errno));
		bt->failed = true;
		bt->stop = true;
	}
	free(text);
	batch_flush(bt);
	cur = NULL;
	holding = NULL;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* PRRCTL_BATCH_STATS=1: how fast the kernel took the lines, on stderr. */
static void batch_report_rate(const struct batch *bt,
			      const struct timespec *t0)
{
	double s = elapsed(t0);

	if (!getenv("PRRCTL_BATCH_STATS"))
		return;
	fprintf(stderr,
		"prrctl: %s: %llu requests in %.3f s (%.0f/s), %llu packs, %llu answers\n",
		bt->name, bt->applied, s, s > 0 ? bt->applied / s : 0.0,
		bt->nl.packs, bt->nl.answers);
}

int run_batch(const char *file)
{
	struct timespec t0;
	struct batch bt;
	FILE *f;
	int ret;

	ret = batch_init(&bt, BATCH_LINES, "batch");
	if (ret)
		goto out;
	f = batch_fopen(file);
	if (!f) {
		ret = EXIT_FAIL;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	batch_run_file(&bt, f);
	if (f != stdin)
		fclose(f);
	batch_report_rate(&bt, &t0);
	ret = bt.failed ? EXIT_FAIL : EXIT_OK;
out:
	batch_fini(&bt);
	return ret;
}

/* The whole of @f, NUL-terminated, or NULL after a message. */
static char *slurp(FILE *f, const char *file)
{
	size_t len = 0, cap = 65536, got;
	char *buf = malloc(cap), *p;

	while (buf) {
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (len < cap - 1)
			break;
		cap *= 2;
		p = realloc(buf, cap);
		if (!p)
			free(buf);
		buf = p;
	}
	if (!buf) {
		fprintf(stderr, "prrctl: out of memory\n");
		return NULL;
	}
	if (ferror(f)) {
		fprintf(stderr, "prrctl: cannot read %s: %s\n", file,
			strerror(errno));
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Runs every line of @text (left intact) through batch_line(). */
static void batch_run_text(struct batch *bt, const char *text)
{
	const char *p = text, *nl;
	char *line = NULL;
	size_t cap = 0, len;

	cur = bt;
	holding = bt;
	bt->line = 0;
	while (*p && !bt->stop) {
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len + 1 > cap) {
			free(line);
			cap = 2 * len + 1;
			line = malloc(cap);
			if (!line) {
				fprintf(stderr, "prrctl: out of memory\n");
				bt->failed = true;
				bt->stop = true;
				break;
			}
		}
		memcpy(line, p, len);
		line[len] = '\0';
		bt->line++;
		batch_line(bt, line);
		p += len + (nl ? 1 : 0);
	}
	free(line);
	if (bt->mode == BATCH_STAGE)
		batch_flush(bt);
	cur = NULL;
	holding = NULL;
}

static bool nat_equal(const struct prr_nat *a, const struct prr_nat *b)
{
	return a->addr.s_addr == b->addr.s_addr &&
	       a->prefix.s_addr == b->prefix.s_addr && a->plen == b->plen &&
	       a->has_oif == b->has_oif && (!a->has_oif || a->oif == b->oif);
}

/*
 * Restore does not replace NAT rules: the file's add-nat lines must be the
 * rules configured, no more, no fewer (what "save" printed).
 */
static int restore_check_nats(struct batch *bt)
{
	const struct prr_nats *want = &bt->file_nats;
	struct prr_nats have = { 0 };
	size_t i, j;
	int ret;

	ret = get_nats(&bt->nl, &have);
	if (ret) {
		prr_nl_where = "restore: ";
		prr_nl_report(&bt->nl, ret);
		return EXIT_FAIL;
	}
	ret = EXIT_OK;
	for (i = 0; i < want->n && !ret; i++) {
		for (j = 0; j < have.n; j++)
			if (nat_equal(&want->v[i], &have.v[j]))
				break;
		if (j == have.n) {
			fprintf(stderr,
				"prrctl: restore line %u: this NAT rule is not configured; restore does not change NAT rules (use add-nat)\n",
				bt->nat_lines[i]);
			ret = EXIT_FAIL;
		}
	}
	for (j = 0; j < have.n && !ret; j++) {
		for (i = 0; i < want->n; i++)
			if (nat_equal(&want->v[i], &have.v[j]))
				break;
		if (i == want->n) {
			fprintf(stderr,
				"prrctl: restore: a configured NAT rule has no add-nat line; restore does not change NAT rules (use del-nat)\n");
			ret = EXIT_FAIL;
		}
	}
	free(have.v);
	return ret;
}

/* Sends a request without attributes that only wants an ack. */
static int restore_request(struct batch *bt, __u8 cmd, bool report)
{
	struct nlmsghdr *nlh;
	int ret;

	nlh = prr_nl_request(&bt->nl, cmd, NLM_F_ACK);
	ret = prr_nl_exchange(&bt->nl, nlh, NULL, NULL);
	if (ret && report) {
		prr_nl_where = "restore: ";
		prr_nl_report(&bt->nl, ret);
	}
	prr_nl_where = NULL;
	return ret ? EXIT_FAIL : EXIT_OK;
}

/* Checks, stages and commits @text; see the top of this file. */
static int restore_text(struct batch *bt, const char *text)
{
	struct timespec t0;

	bt->mode = BATCH_CHECK;
	batch_run_text(bt, text);
	if (bt->failed || batch_open(bt) || restore_check_nats(bt))
		return EXIT_FAIL;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (restore_request(bt, PRR_CMD_REPLACE_BEGIN, true))
		return EXIT_FAIL;
	bt->mode = BATCH_STAGE;
	batch_run_text(bt, text);
	if (bt->failed) {
		/* Closing the socket would do too; say it explicitly. */
		restore_request(bt, PRR_CMD_REPLACE_ABORT, false);
		return EXIT_FAIL;
	}
	batch_report_rate(bt, &t0);
	if (restore_request(bt, PRR_CMD_REPLACE_COMMIT, true))
		return EXIT_FAIL;
	if (getenv("PRRCTL_BATCH_STATS"))
		fprintf(stderr, "prrctl: restore: committed after %.3f s\n",
			elapsed(&t0));
	return EXIT_OK;
}

int cmd_restore(int argc, char **argv)
{
	struct batch bt;
	char *text;
	FILE *f;
	int ret;

	if (argc < 1)
		return usage_error("restore needs a file name (\"-\": standard input)");
	if (argc > 1)
		return usage_error("unexpected argument \"%s\"", argv[1]);
	f = batch_fopen(argv[0]);
	if (!f)
		return EXIT_FAIL;
	text = slurp(f, argv[0]);
	if (f != stdin)
		fclose(f);
	if (!text)
		return EXIT_FAIL;
	ret = batch_init(&bt, BATCH_CHECK, "restore");
	if (!ret)
		ret = restore_text(&bt, text);
	batch_fini(&bt);
	free(text);
	return ret;
}
