// SPDX-License-Identifier: GPL-2.0
/*
 * prrctl: the subcommands.  Each parses its words completely (usage errors
 * exit 2 before anything is sent), then talks to the kernel.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/genetlink.h>

#include "prrctl.h"
#include "genl.h"
#include "notation.h"

/* What add-cpe and del-cpe say about a CPE. */
struct entry_args {
	bool has_addr;
	struct in_addr addr;
	struct prr_piece pieces[PRR_NOTATION_MAX];
	int npieces;			/* 0: del-cpe by name */
	__u8 action;			/* PRR_ACTION_UNSPEC until given */
	const char *action_word;
	struct in_addr via;
	__u32 oif;			/* 0: no dev */
	const char *name;		/* NULL: none */
};

/*
 * The index of device @name, 0 if there is none.  if_nametoindex() opens
 * and closes a socket on every call, which was half the kernel's time in a
 * -batch or restore of a big table (every line names the same few devices).
 * Like iproute2's ll_map, remember each name for the rest of the run; a name
 * that does not resolve is asked again.
 */
static __u32 device_index(const char *name)
{
	static struct {
		char name[IF_NAMESIZE];
		__u32 index;
	} seen[8];
	static unsigned int next;
	unsigned int i;
	__u32 index;

	for (i = 0; i < ARRAY_SIZE(seen); i++)
		if (seen[i].index && !strcmp(seen[i].name, name))
			return seen[i].index;
	index = if_nametoindex(name);
	if (index && strlen(name) < IF_NAMESIZE) {
		i = next++ % ARRAY_SIZE(seen);
		strcpy(seen[i].name, name);
		seen[i].index = index;
	}
	return index;
}

/* A CPE's pieces go in one request: add-cpe takes what the kernel takes. */
#if PRR_NOTATION_MAX > PRR_PIECES_MAX
#error "a port set prrctl parses must fit one request"
#endif

static int set_action(struct entry_args *e, __u8 action, const char *word)
{
	if (e->action == action)
		return usage_error("\"%s\" given twice", word);
	if (e->action != PRR_ACTION_UNSPEC)
		return usage_error("\"%s\" and \"%s\" exclude each other",
				   e->action_word, word);
	e->action = action;
	e->action_word = word;
	return EXIT_OK;
}

/*
 * A name as add-cpe, del-cpe and show take it: what the kernel takes
 * (PRR_A_NAME: 1 to PRR_NAME_MAX - 1 printable ASCII characters without
 * blanks), not starting with "#", which would start a comment in a batch or
 * restore file.
 */
static int parse_name(const char *arg, const char **name)
{
	const char *p;

	if (*name)
		return usage_error("\"name\" given twice");
	if (!arg)
		return usage_error("\"name\" needs a value");
	for (p = arg; *p; p++)
		if (*p < '!' || *p > '~')
			break;
	/* The message below says 31. */
	if (!*arg || *p || *arg == '#' || p - arg >= PRR_NAME_MAX)
		return usage_error("invalid name \"%s\": %s", arg,
				   "1-31 printable ASCII characters, no blanks, not starting with #");
	*name = arg;
	return EXIT_OK;
}

/* One keyword of add-cpe at argv[0]; *used is set to the words it took. */
static int parse_action_word(struct entry_args *e, char **argv, int argc,
			     int *used)
{
	const char *word = argv[0];
	int ret;

	*used = 1;
	if (!strcmp(word, "local"))
		return set_action(e, PRR_ACTION_LOCAL, word);
	if (!strcmp(word, "drop"))
		return set_action(e, PRR_ACTION_DROP, word);

	if (strcmp(word, "via") && strcmp(word, "dev"))
		return usage_error("unexpected argument \"%s\"", word);
	if (argc < 2)
		return usage_error("\"%s\" needs a value", word);
	*used = 2;

	if (!strcmp(word, "dev")) {
		if (e->oif)
			return usage_error("\"dev\" given twice");
		e->oif = device_index(argv[1]);
		if (!e->oif)
			return usage_error("no such device \"%s\"", argv[1]);
		return EXIT_OK;
	}
	ret = set_action(e, PRR_ACTION_VIA, word);
	if (ret)
		return ret;
	if (inet_pton(AF_INET, argv[1], &e->via) != 1)
		return usage_error("invalid next hop \"%s\"", argv[1]);
	return EXIT_OK;
}

/* The words after ADDR: port set, name, and for add-cpe the action. */
static int parse_entry_words(int argc, char **argv, bool add,
			     struct entry_args *e, struct prr_notation *nt)
{
	int i, used, ret;

	for (i = 0; i < argc; i += used) {
		used = prr_notation_word(nt, argc - i, argv + i);
		if (used < 0)
			return usage_error("%s", nt->err);
		if (used)
			continue;
		used = 2;
		if (!strcmp(argv[i], "name"))
			ret = parse_name(i + 1 < argc ? argv[i + 1] : NULL,
					 &e->name);
		else if (add)
			ret = parse_action_word(e, argv + i, argc - i, &used);
		else
			ret = usage_error("unexpected argument \"%s\"",
					  argv[i]);
		if (ret)
			return ret;
	}
	return EXIT_OK;
}

/*
 * add-cpe: ADDR SET ACTION [name NAME].  del-cpe: ADDR SET, or
 * [ADDR] name NAME.  SET is any form of notation.h.
 */
static int parse_entry_args(int argc, char **argv, bool add,
			    struct entry_args *e)
{
	struct prr_notation nt;
	int ret, skip = 0;

	memset(e, 0, sizeof(*e));
	prr_notation_init(&nt);
	if (argc < 1)
		return usage_error(add ? "missing ADDR" :
				   "missing ADDR or \"name NAME\"");
	if (add || strcmp(argv[0], "name")) {
		if (inet_pton(AF_INET, argv[0], &e->addr) != 1)
			return usage_error("invalid address \"%s\"", argv[0]);
		e->has_addr = true;
		skip = 1;
	}
	ret = parse_entry_words(argc - skip, argv + skip, add, e, &nt);
	if (ret)
		return ret;
	if (!add && e->name) {
		if (nt.seen)
			return usage_error("\"name\" and a port set exclude each other");
		return EXIT_OK;
	}
	e->npieces = prr_notation_finish(&nt, e->pieces, ARRAY_SIZE(e->pieces));
	if (e->npieces < 0)
		return usage_error("%s", nt.err);
	if (!add)
		return EXIT_OK;
	if (e->action == PRR_ACTION_UNSPEC)
		return usage_error("missing action: \"via GW\", \"local\" or \"drop\"");
	if (e->oif && e->action != PRR_ACTION_VIA)
		return usage_error("\"dev\" only goes with \"via\"");
	return EXIT_OK;
}

static int no_more_args(int argc, char **argv)
{
	if (argc > 0)
		return usage_error("unexpected argument \"%s\"", argv[0]);
	return EXIT_OK;
}

/* Opens the netlink socket; reports why not and returns EXIT_FAIL. */
int open_or_report(struct prr_nl *nl)
{
	int ret = prr_nl_open(nl);

	if (!ret)
		return EXIT_OK;
	if (nl->no_family)
		fprintf(stderr,
			"prrctl: the prr kernel module is not loaded (try \"modprobe prr\")\n");
	else
		prr_nl_report(nl, ret);
	return EXIT_FAIL;
}

/* Sends a request that only expects an ack; reports a failure. */
static int exchange_ack(struct prr_nl *nl, struct nlmsghdr *nlh)
{
	int ret = prr_nl_exchange(nl, nlh, NULL, NULL);

	if (ret) {
		prr_nl_report(nl, ret);
		return EXIT_FAIL;
	}
	if (nl->warning[0])
		fprintf(stderr, "Warning: %s.\n", nl->warning);
	return EXIT_OK;
}

/*
 * The port set: one piece as PRR_A_PORT_VALUE/PRR_A_PORT_MASK (what every
 * version of the module takes), several as PRR_A_PIECES.
 */
static void put_pieces(struct nlmsghdr *nlh, const struct prr_piece *p,
		       int n)
{
	struct nlattr *all, *one;
	int i;

	if (n == 1) {
		mnl_attr_put_u16(nlh, PRR_A_PORT_VALUE, p[0].value);
		mnl_attr_put_u16(nlh, PRR_A_PORT_MASK, p[0].mask);
		return;
	}
	all = mnl_attr_nest_start(nlh, PRR_A_PIECES);
	for (i = 0; i < n; i++) {
		one = mnl_attr_nest_start(nlh, i + 1);
		mnl_attr_put_u16(nlh, PRR_A_PORT_VALUE, p[i].value);
		mnl_attr_put_u16(nlh, PRR_A_PORT_MASK, p[i].mask);
		mnl_attr_nest_end(nlh, one);
	}
	mnl_attr_nest_end(nlh, all);
}

/* The CPE's address and set (or name), then what else was given. */
static void put_entry(struct nlmsghdr *nlh, const void *arg)
{
	const struct entry_args *e = arg;

	if (e->has_addr)
		mnl_attr_put_u32(nlh, PRR_A_ADDR, e->addr.s_addr);
	if (e->npieces > 0)
		put_pieces(nlh, e->pieces, e->npieces);
	if (e->name)
		mnl_attr_put_strz(nlh, PRR_A_NAME, e->name);
	if (e->action != PRR_ACTION_UNSPEC)
		mnl_attr_put_u8(nlh, PRR_A_ACTION, e->action);
	if (e->action == PRR_ACTION_VIA)
		mnl_attr_put_u32(nlh, PRR_A_VIA, e->via.s_addr);
	if (e->oif)
		mnl_attr_put_u32(nlh, PRR_A_OIF, e->oif);
}

/*
 * Sends @cmd with the attributes @put adds from @arg (none if @put is NULL)
 * and waits for the ack; reports a failure.
 */
static int request_ack(__u8 cmd, put_attrs_t put, const void *arg)
{
	struct nlmsghdr *nlh;
	struct prr_nl nl;
	int ret;

	if (batch_active())
		return batch_queue(cmd, put, arg);
	ret = open_or_report(&nl);
	if (ret)
		return ret;
	/* Generic netlink admits no NLM_F_CREATE/EXCL: adding never replaces. */
	nlh = prr_nl_request(&nl, cmd, NLM_F_ACK);
	if (put)
		put(nlh, arg);
	ret = exchange_ack(&nl, nlh);
	prr_nl_close(&nl);
	return ret;
}

int cmd_add_cpe(int argc, char **argv)
{
	struct entry_args e;
	int ret;

	ret = parse_entry_args(argc, argv, true, &e);
	return ret ? ret : request_ack(PRR_CMD_NEW_ENTRY, put_entry, &e);
}

int cmd_del_cpe(int argc, char **argv)
{
	struct entry_args e;
	int ret;

	ret = parse_entry_args(argc, argv, false, &e);
	return ret ? ret : request_ack(PRR_CMD_DEL_ENTRY, put_entry, &e);
}

int cmd_flush(int argc, char **argv)
{
	int ret;

	ret = no_more_args(argc, argv);
	return ret ? ret : request_ack(PRR_CMD_FLUSH, NULL, NULL);
}

/* Attribute types of a reply; newer attributes are ignored. */
static const enum mnl_attr_data_type entry_attr_types[PRR_A_MAX + 1] = {
	[PRR_A_ADDR]		= MNL_TYPE_U32,
	[PRR_A_PORT_VALUE]	= MNL_TYPE_U16,
	[PRR_A_PORT_MASK]	= MNL_TYPE_U16,
	[PRR_A_ACTION]		= MNL_TYPE_U8,
	[PRR_A_VIA]		= MNL_TYPE_U32,
	[PRR_A_OIF]		= MNL_TYPE_U32,
	[PRR_A_PACKETS]		= MNL_TYPE_U64,
	[PRR_A_BYTES]		= MNL_TYPE_U64,
	[PRR_A_STATS]		= MNL_TYPE_NESTED,
	[PRR_A_SOURCE_CHECK]	= MNL_TYPE_U8,
	[PRR_A_UNOWNED]		= MNL_TYPE_U8,
	[PRR_A_NAT_PREFIX]	= MNL_TYPE_U32,
	[PRR_A_NAT_PREFIX_LEN]	= MNL_TYPE_U8,
	[PRR_A_NAME]		= MNL_TYPE_NUL_STRING,
	[PRR_A_CPE_ID]		= MNL_TYPE_U32,
	[PRR_A_NETNS_COOKIE]	= MNL_TYPE_U64,
	[PRR_A_ENTRY_COUNTERS]	= MNL_TYPE_U8,
};

static int entry_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type > PRR_A_MAX || entry_attr_types[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, entry_attr_types[type]) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

int parse_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	memset(tb, 0, sizeof(*tb) * (PRR_A_MAX + 1));
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), entry_attr_cb,
			      tb);
}

int parse_entry(const struct nlattr **tb, struct prr_entry *e)
{
	if (!tb[PRR_A_ADDR] || !tb[PRR_A_PORT_VALUE] ||
	    !tb[PRR_A_PORT_MASK] || !tb[PRR_A_ACTION]) {
		errno = EBADMSG;
		return -1;
	}
	memset(e, 0, sizeof(*e));
	e->addr.s_addr = mnl_attr_get_u32(tb[PRR_A_ADDR]);
	e->port_value = mnl_attr_get_u16(tb[PRR_A_PORT_VALUE]);
	e->port_mask = mnl_attr_get_u16(tb[PRR_A_PORT_MASK]);
	e->action = mnl_attr_get_u8(tb[PRR_A_ACTION]);
	if (tb[PRR_A_VIA]) {
		e->has_via = true;
		e->via.s_addr = mnl_attr_get_u32(tb[PRR_A_VIA]);
	}
	if (tb[PRR_A_OIF]) {
		e->has_oif = true;
		e->oif = mnl_attr_get_u32(tb[PRR_A_OIF]);
	}
	/* Entries added with entry-counters off have none. */
	e->has_counters = tb[PRR_A_PACKETS] && tb[PRR_A_BYTES];
	if (e->has_counters) {
		e->packets = mnl_attr_get_u64(tb[PRR_A_PACKETS]);
		e->bytes = mnl_attr_get_u64(tb[PRR_A_BYTES]);
	}
	if (tb[PRR_A_CPE_ID])
		e->cpe_id = mnl_attr_get_u32(tb[PRR_A_CPE_ID]);
	if (tb[PRR_A_NAME])
		snprintf(e->name, sizeof(e->name), "%s",
			 mnl_attr_get_str(tb[PRR_A_NAME]));
	return 0;
}

static int entry_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[PRR_A_MAX + 1];
	struct prr_entries *entries = data;
	struct prr_entry e;

	if (parse_attrs(nlh, tb) < 0 || parse_entry(tb, &e) < 0)
		return MNL_CB_ERROR;

	if (entries->n == entries->cap) {
		size_t cap = entries->cap ? 2 * entries->cap : 64;
		struct prr_entry *v = realloc(entries->v, cap * sizeof(*v));

		if (!v) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		entries->v = v;
		entries->cap = cap;
	}
	entries->v[entries->n++] = e;
	return MNL_CB_OK;
}

static void entries_reset(void *data)
{
	struct prr_entries *entries = data;

	entries->n = 0;
}

bool config_from_attrs(const struct nlattr **tb, struct prr_config *config)
{
	if (!tb[PRR_A_SOURCE_CHECK] || !tb[PRR_A_UNOWNED])
		return false;
	config->source_check = mnl_attr_get_u8(tb[PRR_A_SOURCE_CHECK]);
	config->unowned = mnl_attr_get_u8(tb[PRR_A_UNOWNED]);
	/* A module without the setting gives every entry counters. */
	config->entry_counters = !tb[PRR_A_ENTRY_COUNTERS] ||
				 mnl_attr_get_u8(tb[PRR_A_ENTRY_COUNTERS]);
	return true;
}

static int config_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[PRR_A_MAX + 1];
	struct prr_config *config = data;

	if (parse_attrs(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (!config_from_attrs(tb, config)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	config->replied = true;
	return MNL_CB_OK;
}

/* Reads the namespace settings; reports a failure. */
static int get_config(struct prr_nl *nl, struct prr_config *config)
{
	struct nlmsghdr *nlh;
	int ret;

	memset(config, 0, sizeof(*config));
	nlh = prr_nl_request(nl, PRR_CMD_GET_CONFIG, NLM_F_ACK);
	ret = prr_nl_exchange(nl, nlh, config_msg_cb, config);
	if (!ret && !config->replied)
		ret = -EBADMSG;
	if (ret) {
		prr_nl_report(nl, ret);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int show_config(void)
{
	struct prr_config config;
	struct prr_nl nl;
	int ret;

	ret = open_or_report(&nl);
	if (ret)
		return ret;
	ret = get_config(&nl, &config);
	if (!ret && print_config(&config))
		ret = EXIT_FAIL;
	prr_nl_close(&nl);
	return ret;
}

static int nat_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[PRR_A_MAX + 1];
	struct prr_nats *nats = data;
	struct prr_nat *nat;

	if (parse_attrs(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[PRR_A_ADDR] || !tb[PRR_A_NAT_PREFIX] ||
	    !tb[PRR_A_NAT_PREFIX_LEN]) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (nats->n == nats->cap) {
		size_t cap = nats->cap ? 2 * nats->cap : 16;
		struct prr_nat *v = realloc(nats->v, cap * sizeof(*v));

		if (!v) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		nats->v = v;
		nats->cap = cap;
	}
	nat = &nats->v[nats->n++];
	memset(nat, 0, sizeof(*nat));
	nat->addr.s_addr = mnl_attr_get_u32(tb[PRR_A_ADDR]);
	nat->prefix.s_addr = mnl_attr_get_u32(tb[PRR_A_NAT_PREFIX]);
	nat->plen = mnl_attr_get_u8(tb[PRR_A_NAT_PREFIX_LEN]);
	if (tb[PRR_A_OIF]) {
		nat->has_oif = true;
		nat->oif = mnl_attr_get_u32(tb[PRR_A_OIF]);
	}
	return MNL_CB_OK;
}

static void nats_reset(void *data)
{
	struct prr_nats *nats = data;

	nats->n = 0;
}

static int show_nats(void)
{
	struct prr_nats nats = { 0 };
	struct prr_nl nl;
	int ret;

	ret = open_or_report(&nl);
	if (ret)
		return ret;
	ret = prr_nl_dump(&nl, PRR_CMD_GET_NAT, nat_msg_cb, nats_reset, &nats);
	if (ret) {
		prr_nl_report(&nl, ret);
		ret = EXIT_FAIL;
	} else if (print_nats(&nats)) {
		ret = EXIT_FAIL;
	}
	free(nats.v);
	prr_nl_close(&nl);
	return ret;
}

/* What "show" keeps: the CPEs of an address, of a name. */
struct show_filter {
	bool has_addr;
	struct in_addr addr;
	const char *name;
};

static int parse_show_filter(int argc, char **argv, struct show_filter *f)
{
	int i, ret;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "name")) {
			ret = parse_name(i + 1 < argc ? argv[i + 1] : NULL,
					 &f->name);
			if (ret)
				return ret;
			i++;
			continue;
		}
		if (f->has_addr ||
		    inet_pton(AF_INET, argv[i], &f->addr) != 1)
			return usage_error("unexpected argument \"%s\"",
					   argv[i]);
		f->has_addr = true;
	}
	return EXIT_OK;
}

/* Drops the entries @f does not want, keeping the order of the rest. */
static void filter_entries(struct prr_entries *entries,
			   const struct show_filter *f)
{
	size_t i, n = 0;

	for (i = 0; i < entries->n; i++) {
		const struct prr_entry *e = &entries->v[i];

		if (f->has_addr && e->addr.s_addr != f->addr.s_addr)
			continue;
		if (f->name && strcmp(e->name, f->name))
			continue;
		entries->v[n++] = *e;
	}
	entries->n = n;
}

/* Dumps every entry, sorted and split into CPEs; reports a failure. */
static int get_cpes(struct prr_nl *nl, struct prr_entries *entries,
		    struct prr_groups *groups, const struct show_filter *f)
{
	int ret;

	groups->v = NULL;
	groups->n = 0;
	ret = prr_nl_dump(nl, PRR_CMD_GET_ENTRY, entry_msg_cb, entries_reset,
			  entries);
	if (ret) {
		prr_nl_report(nl, ret);
		return EXIT_FAIL;
	}
	if (f)
		filter_entries(entries, f);
	return group_entries(entries, groups) ? EXIT_FAIL : EXIT_OK;
}

/*
 * "show config": the settings.  "show nat": the NAT rules.  "show [ADDR]
 * [name NAME]": in text, the settings (without a filter) then one line per
 * CPE; in JSON, the array of entries.
 */
int cmd_show(int argc, char **argv)
{
	struct prr_entries entries = { 0 };
	struct prr_groups groups = { 0 };
	struct prr_config config;
	struct show_filter f;
	struct prr_nl nl;
	int ret;

	if (argc > 0 && !strcmp(argv[0], "config")) {
		ret = no_more_args(argc - 1, argv + 1);
		return ret ? ret : show_config();
	}
	if (argc > 0 && !strcmp(argv[0], "nat")) {
		ret = no_more_args(argc - 1, argv + 1);
		return ret ? ret : show_nats();
	}
	ret = parse_show_filter(argc, argv, &f);
	if (ret)
		return ret;
	ret = open_or_report(&nl);
	if (ret)
		return ret;
	if (!opts.json && !argc) {
		ret = get_config(&nl, &config);
		if (!ret && print_config(&config))
			ret = EXIT_FAIL;
		if (ret)
			goto out;
	}

	ret = get_cpes(&nl, &entries, &groups, &f);
	if (!ret && print_entries(&entries, &groups))
		ret = EXIT_FAIL;
out:
	free(entries.v);
	free(groups.v);
	prr_nl_close(&nl);
	return ret;
}

/* "on" or "off" */
static int parse_on_off(const char *word, const char *arg, int *out)
{
	if (*out >= 0)
		return usage_error("\"%s\" given twice", word);
	if (!arg)
		return usage_error("\"%s\" needs \"on\" or \"off\"", word);
	if (strcmp(arg, "on") && strcmp(arg, "off"))
		return usage_error("invalid %s \"%s\": expected \"on\" or \"off\"",
				   word, arg);
	*out = !strcmp(arg, "on");
	return EXIT_OK;
}

static int parse_unowned(const char *word, const char *arg, int *out)
{
	int i;

	if (*out >= 0)
		return usage_error("\"%s\" given twice", word);
	if (!arg)
		return usage_error("\"%s\" needs \"drop\" or \"reject\"", word);
	for (i = 0; i <= PRR_UNOWNED_MAX; i++) {
		if (!strcmp(arg, unowned_names[i])) {
			*out = i;
			return EXIT_OK;
		}
	}
	return usage_error("invalid %s \"%s\": expected \"drop\" or \"reject\"",
			   word, arg);
}

struct config_args {
	int check;			/* -1: unchanged */
	int unowned;			/* -1: unchanged */
	int counters;			/* -1: unchanged */
};

static void put_config(struct nlmsghdr *nlh, const void *arg)
{
	const struct config_args *c = arg;

	if (c->check >= 0)
		mnl_attr_put_u8(nlh, PRR_A_SOURCE_CHECK, c->check);
	if (c->unowned >= 0)
		mnl_attr_put_u8(nlh, PRR_A_UNOWNED, c->unowned);
	if (c->counters >= 0)
		mnl_attr_put_u8(nlh, PRR_A_ENTRY_COUNTERS, c->counters);
}

/*
 * set [source-check on|off] [unowned drop|reject] [entry-counters on|off],
 * at least one.
 */
int cmd_set(int argc, char **argv)
{
	struct config_args c = { .check = -1, .unowned = -1, .counters = -1 };
	int i, ret;

	if (argc == 0)
		return usage_error("missing setting, try \"prrctl help\"");
	for (i = 0; i < argc; i += 2) {
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "source-check"))
			ret = parse_on_off(argv[i], arg, &c.check);
		else if (!strcmp(argv[i], "unowned"))
			ret = parse_unowned(argv[i], arg, &c.unowned);
		else if (!strcmp(argv[i], "entry-counters"))
			ret = parse_on_off(argv[i], arg, &c.counters);
		else
			ret = usage_error("unknown setting \"%s\"", argv[i]);
		if (ret)
			return ret;
	}
	return request_ack(PRR_CMD_SET_CONFIG, put_config, &c);
}

static int stats_attr_cb(const struct nlattr *attr, void *data)
{
	unsigned int type = mnl_attr_get_type(attr);
	struct prr_stats *stats = data;

	if (type > PRR_STATS_A_MAX || type == PRR_STATS_A_PAD ||
	    type == PRR_STATS_A_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	stats->val[type] = mnl_attr_get_u64(attr);
	stats->present[type] = true;
	return MNL_CB_OK;
}

static int stats_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[PRR_A_MAX + 1];
	struct prr_stats *stats = data;

	if (parse_attrs(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[PRR_A_STATS]) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	stats->replied = true;
	return mnl_attr_parse_nested(tb[PRR_A_STATS], stats_attr_cb, stats);
}

int cmd_stats(int argc, char **argv)
{
	struct prr_stats stats = { 0 };
	struct nlmsghdr *nlh;
	struct prr_nl nl;
	int ret;

	ret = no_more_args(argc, argv);
	if (ret)
		return ret;
	ret = open_or_report(&nl);
	if (ret)
		return ret;

	nlh = prr_nl_request(&nl, PRR_CMD_GET_STATS, NLM_F_ACK);
	ret = prr_nl_exchange(&nl, nlh, stats_msg_cb, &stats);
	if (!ret && !stats.replied)
		ret = -EBADMSG;
	if (ret) {
		prr_nl_report(&nl, ret);
		ret = EXIT_FAIL;
	} else if (print_stats(&stats)) {
		ret = EXIT_FAIL;
	}
	prr_nl_close(&nl);
	return ret;
}

/* A.B.C.D[/LEN] */
static int parse_prefix(const char *arg, struct in_addr *prefix, __u8 *plen)
{
	char buf[INET_ADDRSTRLEN + 4], *slash;
	unsigned long len = 32;
	char *end;

	if (strlen(arg) >= sizeof(buf))
		return usage_error("invalid prefix \"%s\"", arg);
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		errno = 0;
		len = strtoul(slash, &end, 10);
		if (!isdigit((unsigned char)*slash) || *end || errno ||
		    len > 32)
			return usage_error("invalid prefix length in \"%s\"",
					   arg);
	}
	if (inet_pton(AF_INET, buf, prefix) != 1)
		return usage_error("invalid prefix \"%s\"", arg);
	*plen = len;
	return EXIT_OK;
}

struct nat_args {
	struct in_addr addr;
	struct in_addr prefix;
	__u8 plen;
	bool has_prefix;
	__u32 oif;
	bool add;			/* add-nat: ADDR and dev */
};

/* [ADDR] from PREFIX[/LEN] [dev IFNAME], ADDR and dev for add-nat only. */
static int parse_nat_args(int argc, char **argv, bool add,
			  struct nat_args *n)
{
	int i, ret;

	memset(n, 0, sizeof(*n));
	n->add = add;
	i = 0;
	if (add) {
		if (argc < 1)
			return usage_error("missing ADDR");
		if (inet_pton(AF_INET, argv[0], &n->addr) != 1)
			return usage_error("invalid address \"%s\"", argv[0]);
		i = 1;
	}
	for (; i < argc; i += 2) {
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "from") && (!add || strcmp(argv[i], "dev")))
			return usage_error("unexpected argument \"%s\"",
					   argv[i]);
		if (!arg)
			return usage_error("\"%s\" needs a value", argv[i]);
		if (!strcmp(argv[i], "dev")) {
			if (n->oif)
				return usage_error("\"dev\" given twice");
			n->oif = device_index(arg);
			if (!n->oif)
				return usage_error("no such device \"%s\"", arg);
			continue;
		}
		if (n->has_prefix)
			return usage_error("\"from\" given twice");
		ret = parse_prefix(arg, &n->prefix, &n->plen);
		if (ret)
			return ret;
		n->has_prefix = true;
	}
	if (!n->has_prefix)
		return usage_error("missing \"from PREFIX/LEN\"");
	return EXIT_OK;
}

static void put_nat(struct nlmsghdr *nlh, const void *arg)
{
	const struct nat_args *n = arg;

	if (n->add)
		mnl_attr_put_u32(nlh, PRR_A_ADDR, n->addr.s_addr);
	mnl_attr_put_u32(nlh, PRR_A_NAT_PREFIX, n->prefix.s_addr);
	mnl_attr_put_u8(nlh, PRR_A_NAT_PREFIX_LEN, n->plen);
	if (n->oif)
		mnl_attr_put_u32(nlh, PRR_A_OIF, n->oif);
}

int cmd_add_nat(int argc, char **argv)
{
	struct nat_args n;
	int ret;

	ret = parse_nat_args(argc, argv, true, &n);
	return ret ? ret : request_ack(PRR_CMD_NEW_NAT, put_nat, &n);
}

int cmd_del_nat(int argc, char **argv)
{
	struct nat_args n;
	int ret;

	ret = parse_nat_args(argc, argv, false, &n);
	return ret ? ret : request_ack(PRR_CMD_DEL_NAT, put_nat, &n);
}

int get_nats(struct prr_nl *nl, struct prr_nats *nats)
{
	return prr_nl_dump(nl, PRR_CMD_GET_NAT, nat_msg_cb, nats_reset, nats);
}

/*
 * The settings, the CPEs (sorted by address, then smallest piece by mask
 * and value: the same configuration always saves to the same text) and the
 * NAT rules, as lines of a restore or batch file.
 */
int cmd_save(int argc, char **argv)
{
	struct prr_entries entries = { 0 };
	struct prr_groups groups = { 0 };
	struct prr_nats nats = { 0 };
	struct prr_config config;
	struct prr_nl nl;
	int ret;

	ret = no_more_args(argc, argv);
	if (ret)
		return ret;
	if (opts.json)
		return usage_error("save has no JSON form");
	ret = open_or_report(&nl);
	if (ret)
		return ret;
	ret = get_config(&nl, &config);
	if (ret)
		goto out;
	ret = get_cpes(&nl, &entries, &groups, NULL);
	if (ret)
		goto out;
	ret = get_nats(&nl, &nats);
	if (ret) {
		prr_nl_report(&nl, ret);
		ret = EXIT_FAIL;
		goto out;
	}
	print_save(&config, &entries, &groups, &nats);
out:
	free(entries.v);
	free(groups.v);
	free(nats.v);
	prr_nl_close(&nl);
	return ret;
}
