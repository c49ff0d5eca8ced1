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

/* What add-cpe and del-cpe say about an entry. */
struct entry_args {
	struct in_addr addr;
	__u16 port_value;
	__u16 port_mask;
	bool has_value;
	bool has_mask;
	__u8 action;			/* PRR_ACTION_UNSPEC until given */
	const char *action_word;
	struct in_addr via;
	__u32 oif;			/* 0: no dev */
};

/* Decimal or 0x hex, 0..0xffff, nothing else (no sign, no blanks). */
static bool parse_u16(const char *s, __u16 *out)
{
	unsigned int v;

	if (!prr_parse_uint(s, 0xffff, &v))
		return false;
	*out = v;
	return true;
}

static int parse_port_word(const char *word, const char *arg, __u16 *out,
			   bool *seen)
{
	if (*seen)
		return usage_error("\"%s\" given twice", word);
	if (!arg)
		return usage_error("\"%s\" needs a value", word);
	if (!parse_u16(arg, out))
		return usage_error("invalid %s \"%s\": expected 0-65535 or 0x0-0xffff",
				   word, arg);
	*seen = true;
	return EXIT_OK;
}

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
		e->oif = if_nametoindex(argv[1]);
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

/* ADDR port-value V port-mask M, then for add-cpe the action words. */
static int parse_entry_args(int argc, char **argv, bool add,
			    struct entry_args *e)
{
	int i, used, ret;

	memset(e, 0, sizeof(*e));
	if (argc < 1)
		return usage_error("missing ADDR");
	if (inet_pton(AF_INET, argv[0], &e->addr) != 1)
		return usage_error("invalid address \"%s\"", argv[0]);

	for (i = 1; i < argc; i += used) {
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		used = 2;
		if (!strcmp(argv[i], "port-value"))
			ret = parse_port_word(argv[i], arg, &e->port_value,
					      &e->has_value);
		else if (!strcmp(argv[i], "port-mask"))
			ret = parse_port_word(argv[i], arg, &e->port_mask,
					      &e->has_mask);
		else if (add)
			ret = parse_action_word(e, argv + i, argc - i, &used);
		else
			ret = usage_error("unexpected argument \"%s\"",
					  argv[i]);
		if (ret)
			return ret;
	}

	if (!e->has_value)
		return usage_error("missing \"port-value V\"");
	if (!e->has_mask)
		return usage_error("missing \"port-mask M\"");
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
static int open_or_report(struct prr_nl *nl)
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

/* The entry's key, then whatever else the command line gave. */
static void put_entry(struct nlmsghdr *nlh, const void *arg)
{
	const struct entry_args *e = arg;

	mnl_attr_put_u32(nlh, PRR_A_ADDR, e->addr.s_addr);
	mnl_attr_put_u16(nlh, PRR_A_PORT_VALUE, e->port_value);
	mnl_attr_put_u16(nlh, PRR_A_PORT_MASK, e->port_mask);
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

static int parse_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	memset(tb, 0, sizeof(*tb) * (PRR_A_MAX + 1));
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), entry_attr_cb,
			      tb);
}

static int entry_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[PRR_A_MAX + 1];
	struct prr_entries *entries = data;
	struct prr_entry *e;

	if (parse_attrs(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[PRR_A_ADDR] || !tb[PRR_A_PORT_VALUE] ||
	    !tb[PRR_A_PORT_MASK] || !tb[PRR_A_ACTION]) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}

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
	e = &entries->v[entries->n++];
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
	if (tb[PRR_A_PACKETS])
		e->packets = mnl_attr_get_u64(tb[PRR_A_PACKETS]);
	if (tb[PRR_A_BYTES])
		e->bytes = mnl_attr_get_u64(tb[PRR_A_BYTES]);
	return MNL_CB_OK;
}

static void entries_reset(void *data)
{
	struct prr_entries *entries = data;

	entries->n = 0;
}

static int config_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[PRR_A_MAX + 1];
	struct prr_config *config = data;

	if (parse_attrs(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[PRR_A_SOURCE_CHECK] || !tb[PRR_A_UNOWNED]) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	config->source_check = mnl_attr_get_u8(tb[PRR_A_SOURCE_CHECK]);
	config->unowned = mnl_attr_get_u8(tb[PRR_A_UNOWNED]);
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

/*
 * "show config": the settings.  "show nat": the NAT rules.  "show": in text, the settings then the
 * entries; in JSON, the array of entries.
 */
int cmd_show(int argc, char **argv)
{
	struct prr_entries entries = { 0 };
	struct prr_config config;
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
	ret = no_more_args(argc, argv);
	if (ret)
		return ret;
	ret = open_or_report(&nl);
	if (ret)
		return ret;
	if (!opts.json) {
		ret = get_config(&nl, &config);
		if (!ret && print_config(&config))
			ret = EXIT_FAIL;
		if (ret)
			goto out;
	}

	ret = prr_nl_dump(&nl, PRR_CMD_GET_ENTRY, entry_msg_cb, entries_reset,
			  &entries);
	if (ret) {
		prr_nl_report(&nl, ret);
		ret = EXIT_FAIL;
	} else if (print_entries(&entries)) {
		ret = EXIT_FAIL;
	}
out:
	free(entries.v);
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
};

static void put_config(struct nlmsghdr *nlh, const void *arg)
{
	const struct config_args *c = arg;

	if (c->check >= 0)
		mnl_attr_put_u8(nlh, PRR_A_SOURCE_CHECK, c->check);
	if (c->unowned >= 0)
		mnl_attr_put_u8(nlh, PRR_A_UNOWNED, c->unowned);
}

/* set [source-check on|off] [unowned drop|reject], at least one. */
int cmd_set(int argc, char **argv)
{
	struct config_args c = { .check = -1, .unowned = -1 };
	int i, ret;

	if (argc == 0)
		return usage_error("missing setting, try \"prrctl help\"");
	for (i = 0; i < argc; i += 2) {
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "source-check"))
			ret = parse_on_off(argv[i], arg, &c.check);
		else if (!strcmp(argv[i], "unowned"))
			ret = parse_unowned(argv[i], arg, &c.unowned);
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
			n->oif = if_nametoindex(arg);
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

static int entry_cmp(const void *a, const void *b)
{
	const struct prr_entry *x = a, *y = b;
	__u32 ax = ntohl(x->addr.s_addr), ay = ntohl(y->addr.s_addr);

	if (ax != ay)
		return ax < ay ? -1 : 1;
	if (x->port_mask != y->port_mask)
		return x->port_mask < y->port_mask ? -1 : 1;
	if (x->port_value != y->port_value)
		return x->port_value < y->port_value ? -1 : 1;
	return 0;
}

/*
 * The settings, the entries (sorted by address, mask, value: the same
 * configuration always saves to the same text) and the NAT rules, as lines
 * of a restore or batch file.
 */
int cmd_save(int argc, char **argv)
{
	struct prr_entries entries = { 0 };
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
	ret = prr_nl_dump(&nl, PRR_CMD_GET_ENTRY, entry_msg_cb, entries_reset,
			  &entries);
	if (!ret)
		ret = get_nats(&nl, &nats);
	if (ret) {
		prr_nl_report(&nl, ret);
		ret = EXIT_FAIL;
		goto out;
	}
	if (entries.n)
		qsort(entries.v, entries.n, sizeof(*entries.v), entry_cmp);
	print_save(&config, &entries, &nats);
out:
	free(entries.v);
	free(nats.v);
	prr_nl_close(&nl);
	return ret;
}
