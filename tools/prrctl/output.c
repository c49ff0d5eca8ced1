// SPDX-License-Identifier: GPL-2.0
/*
 * prrctl: text and JSON output of show, stats and the settings.
 *
 * The text form of a CPE is the add-cpe grammar followed by its counters,
 * so that a line can be pasted back into "prrctl add-cpe".  A CPE is the
 * entries one add-cpe made (group_entries()), its port set printed in the
 * canonical form of notation.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <json-c/json.h>

#include "prrctl.h"
#include "notation.h"

/* The canonical text of up to PRR_NOTATION_MAX pairs fits. */
#define SET_TEXT_SIZE	(PRR_NOTATION_MAX * 40)

static const char *const action_names[PRR_ACTION_MAX + 1] = {
	[PRR_ACTION_VIA]	= "via",
	[PRR_ACTION_LOCAL]	= "local",
	[PRR_ACTION_DROP]	= "drop",
};

/* Also the JSON keys of "prrctl -j stats". */
static const char *const stat_names[PRR_STATS_A_MAX + 1] = {
	[PRR_STATS_A_FORWARDED]		= "forwarded",
	[PRR_STATS_A_LOCAL]		= "local",
	[PRR_STATS_A_DROP_NO_ENTRY]	= "drop_no_entry",
	[PRR_STATS_A_DROP_NO_PORT]	= "drop_no_port",
	[PRR_STATS_A_DROP_MALFORMED]	= "drop_malformed",
	[PRR_STATS_A_DROP_UNREACHABLE]	= "drop_unreachable",
	[PRR_STATS_A_DROP_POLICY]	= "drop_policy",
	[PRR_STATS_A_VALIDATED]		= "validated",
	[PRR_STATS_A_DROP_SPOOFED]	= "drop_spoofed",
	[PRR_STATS_A_NAT_MAPPED]	= "nat_mapped",
	[PRR_STATS_A_DROP_NAT_EXHAUSTED] = "drop_nat_exhausted",
	[PRR_STATS_A_DROP_NAT_NO_PORT]	= "drop_nat_no_port",
	[PRR_STATS_A_DROP_NAT_UNTRANSLATED] = "drop_nat_untranslated",
};

/* Also the words of "prrctl set unowned". */
const char *const unowned_names[PRR_UNOWNED_MAX + 1] = {
	[PRR_UNOWNED_DROP]	= "drop",
	[PRR_UNOWNED_REJECT]	= "reject",
};

static const char *action_name(__u8 action)
{
	if (action > PRR_ACTION_MAX || !action_names[action])
		return NULL;
	return action_names[action];
}

/* The interface name, or "if<index>" when it is gone meanwhile. */
static const char *dev_name(__u32 oif, char *buf)
{
	if (!if_indextoname(oif, buf))
		snprintf(buf, IF_NAMESIZE, "if%u", oif);
	return buf;
}

/* The action words of @e: "via GW [dev IF]", "local", "drop". */
static void print_action_words(const struct prr_entry *e)
{
	const char *action = action_name(e->action);
	char via[INET_ADDRSTRLEN];
	char dev[IF_NAMESIZE];

	if (action)
		printf(" %s", action);
	else
		printf(" action %u", e->action);
	if (e->has_via) {
		inet_ntop(AF_INET, &e->via, via, sizeof(via));
		printf(" %s%s", action ? "" : "via ", via);
	}
	if (e->has_oif)
		printf(" dev %s", dev_name(e->oif, dev));
}

/* The pieces of group @g into @p (PRR_NOTATION_MAX of them at most). */
static size_t group_pieces(const struct prr_entries *entries,
			   const struct prr_group *g, struct prr_piece *p)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		p[i].value = entries->v[g->first + i].port_value;
		p[i].mask = entries->v[g->first + i].port_mask;
	}
	return g->n;
}

static void group_text(const struct prr_entries *entries,
		       const struct prr_group *g, char *buf)
{
	struct prr_piece p[PRR_NOTATION_MAX];

	prr_notation_describe(p, group_pieces(entries, g, p), buf,
			      SET_TEXT_SIZE);
}

/* ADDR SET ACTION [name NAME]: the arguments of add-cpe. */
static void print_group_words(const struct prr_entries *entries,
			      const struct prr_group *g)
{
	const struct prr_entry *e = &entries->v[g->first];
	char addr[INET_ADDRSTRLEN], set[SET_TEXT_SIZE];

	inet_ntop(AF_INET, &e->addr, addr, sizeof(addr));
	group_text(entries, g, set);
	printf("%s %s", addr, set);
	print_action_words(e);
	if (e->name[0])
		printf(" name %s", e->name);
}

/* One line per CPE, its counters the sums over its entries. */
static void print_group_text(const struct prr_entries *entries,
			     const struct prr_group *g)
{
	unsigned long long packets = 0, bytes = 0;
	bool counted = true;
	size_t i;

	for (i = 0; i < g->n; i++) {
		counted &= entries->v[g->first + i].has_counters;
		packets += entries->v[g->first + i].packets;
		bytes += entries->v[g->first + i].bytes;
	}
	print_group_words(entries, g);
	if (counted)
		printf(" packets %llu bytes %llu", packets, bytes);
	putchar('\n');
}

/* The entries' order within a CPE: by key, then by mask and value. */
static int cpe_key_cmp(const struct prr_entry *x, const struct prr_entry *y)
{
	__u32 ax = ntohl(x->addr.s_addr), ay = ntohl(y->addr.s_addr);
	int c;

	if (ax != ay)
		return ax < ay ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	if (x->has_via != y->has_via)
		return x->has_via ? 1 : -1;
	if (x->via.s_addr != y->via.s_addr)
		return ntohl(x->via.s_addr) < ntohl(y->via.s_addr) ? -1 : 1;
	if (x->has_oif != y->has_oif)
		return x->has_oif ? 1 : -1;
	if (x->oif != y->oif)
		return x->oif < y->oif ? -1 : 1;
	if (x->cpe_id != y->cpe_id)
		return x->cpe_id < y->cpe_id ? -1 : 1;
	return 0;
}

static int piece_cmp(const struct prr_entry *x, const struct prr_entry *y)
{
	if (x->port_mask != y->port_mask)
		return x->port_mask < y->port_mask ? -1 : 1;
	if (x->port_value != y->port_value)
		return x->port_value < y->port_value ? -1 : 1;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return cpe_key_cmp(a, b) ?: piece_cmp(a, b);
}

static const struct prr_entries *sorting;

/* CPEs: by address, then by their first (smallest) piece. */
static int group_cmp(const void *a, const void *b)
{
	const struct prr_group *g = a, *h = b;
	const struct prr_entry *x = &sorting->v[g->first];
	const struct prr_entry *y = &sorting->v[h->first];
	__u32 ax = ntohl(x->addr.s_addr), ay = ntohl(y->addr.s_addr);

	if (ax != ay)
		return ax < ay ? -1 : 1;
	return piece_cmp(x, y) ?: cpe_key_cmp(x, y);
}

/* Some port is in both sets (RFC 6431 §2.1). */
static bool entries_meet(const struct prr_entry *x, const struct prr_entry *y)
{
	return !((x->port_value ^ y->port_value) & x->port_mask &
		 y->port_mask);
}

/* @e may join group @g: same CPE, and add-cpe could add them together. */
static bool group_takes(const struct prr_entries *entries,
			const struct prr_group *g, const struct prr_entry *e)
{
	size_t i;

	if (g->n == PRR_NOTATION_MAX ||
	    cpe_key_cmp(&entries->v[g->first], e))
		return false;
	for (i = 0; i < g->n; i++)
		if (entries_meet(&entries->v[g->first + i], e))
			return false;
	return true;
}

/*
 * A CPE is the entries with the same address, name, action, next hop and
 * PRR_A_CPE_ID: what one add-cpe (one PRR_CMD_NEW_ENTRY) added, less what
 * del-cpe removed since.  So that "save" then "restore" gives back the same
 * table, a CPE never holds two entries add-cpe could not add together
 * (intersecting ones, or more than PRR_NOTATION_MAX): should the kernel's
 * 32-bit PRR_A_CPE_ID have wrapped onto a live one, such entries start
 * another CPE.
 */
int group_entries(struct prr_entries *entries, struct prr_groups *groups)
{
	struct prr_group *g;
	size_t i;

	groups->n = 0;
	groups->v = NULL;
	if (!entries->n)
		return 0;
	qsort(entries->v, entries->n, sizeof(*entries->v), entry_cmp);
	groups->v = calloc(entries->n, sizeof(*groups->v));
	if (!groups->v) {
		fprintf(stderr, "prrctl: out of memory\n");
		return -ENOMEM;
	}
	g = groups->v;
	g->first = 0;
	g->n = 1;
	for (i = 1; i < entries->n; i++) {
		if (group_takes(entries, g, &entries->v[i])) {
			g->n++;
			continue;
		}
		g++;
		g->first = i;
		g->n = 1;
	}
	groups->n = g - groups->v + 1;
	sorting = entries;
	qsort(groups->v, groups->n, sizeof(*groups->v), group_cmp);
	sorting = NULL;
	return 0;
}

/* Adds key to obj; a NULL value (allocation failure aside) means null. */
static bool json_add(struct json_object *obj, const char *key,
		     struct json_object *val, bool is_null)
{
	if (!val && !is_null)
		return false;
	return json_object_object_add(obj, key, val) == 0;
}

static struct json_object *json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static const char *const form_names[] = {
	[PRR_NOTATION_PIECE]	= "piece",
	[PRR_NOTATION_RANGE]	= "ports",
	[PRR_NOTATION_PSID]	= "psid",
	[PRR_NOTATION_PIECES]	= "pieces",
};

/* The "set" object of a CPE: its canonical form. */
static struct json_object *set_json(const struct prr_entries *entries,
				    const struct prr_group *g)
{
	struct json_object *obj = json_object_new_object();
	struct prr_piece p[PRR_NOTATION_MAX];
	struct prr_notation_form f;
	char text[SET_TEXT_SIZE];
	size_t n = group_pieces(entries, g, p);
	bool ok;

	if (!obj)
		return NULL;
	prr_notation_classify(p, n, &f);
	prr_notation_describe(p, n, text, sizeof(text));
	ok = json_add(obj, "form", json_object_new_string(form_names[f.kind]),
		      false) &&
	     json_add(obj, "text", json_object_new_string(text), false) &&
	     json_add(obj, "pieces", json_object_new_int(n), false);
	if (ok && f.kind == PRR_NOTATION_RANGE)
		ok = json_add(obj, "lo", json_object_new_int(f.lo), false) &&
		     json_add(obj, "hi", json_object_new_int(f.hi), false);
	if (ok && f.kind == PRR_NOTATION_PSID)
		ok = json_add(obj, "psid", json_object_new_int(f.psid),
			      false) &&
		     json_add(obj, "psid_len",
			      json_object_new_int(f.psid_len), false) &&
		     json_add(obj, "psid_offset",
			      json_object_new_int(f.psid_offset), false);
	if (!ok) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* One entry (piece) of a CPE, with its own counters. */
static struct json_object *piece_json(const struct prr_entries *entries,
				      const struct prr_group *g, size_t i)
{
	const struct prr_entry *e = &entries->v[g->first + i];
	char addr[INET_ADDRSTRLEN], via[INET_ADDRSTRLEN];
	const char *action = action_name(e->action);
	struct json_object *obj = json_object_new_object();
	char dev[IF_NAMESIZE];
	bool ok;

	if (!obj)
		return NULL;
	inet_ntop(AF_INET, &e->addr, addr, sizeof(addr));
	if (e->has_via)
		inet_ntop(AF_INET, &e->via, via, sizeof(via));

	ok = json_add(obj, "addr", json_object_new_string(addr), false) &&
	     json_add(obj, "port_value", json_object_new_int(e->port_value),
		      false) &&
	     json_add(obj, "port_mask", json_object_new_int(e->port_mask),
		      false) &&
	     json_add(obj, "action",
		      json_object_new_string(action ? action : "unknown"),
		      false) &&
	     json_add(obj, "via", json_string_or_null(e->has_via ? via : NULL),
		      !e->has_via) &&
	     json_add(obj, "dev",
		      json_string_or_null(e->has_oif ?
					  dev_name(e->oif, dev) : NULL),
		      !e->has_oif) &&
	     (!e->has_counters ||
	      (json_add(obj, "packets", json_object_new_uint64(e->packets),
			false) &&
	       json_add(obj, "bytes", json_object_new_uint64(e->bytes),
			false))) &&
	     json_add(obj, "name",
		      json_string_or_null(e->name[0] ? e->name : NULL),
		      !e->name[0]) &&
	     json_add(obj, "set", set_json(entries, g), false);
	if (!ok) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* One entry on its own (a notification): as a CPE of one piece. */
static void entry_alone(const struct prr_entry *e, struct prr_entries *one,
			struct prr_group *g)
{
	memset(one, 0, sizeof(*one));
	one->v = (struct prr_entry *)e;
	one->n = 1;
	memset(g, 0, sizeof(*g));
	g->n = 1;
}

struct json_object *entry_json(const struct prr_entry *e)
{
	struct prr_entries one;
	struct prr_group g;

	entry_alone(e, &one, &g);
	return piece_json(&one, &g, 0);
}

/* ADDR SET ACTION [name NAME] of one entry, as show prints a CPE. */
void print_entry_words(const struct prr_entry *e)
{
	struct prr_entries one;
	struct prr_group g;

	entry_alone(e, &one, &g);
	print_group_words(&one, &g);
}

int print_json(struct json_object *obj)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s;

	if (opts.pretty)
		flags |= JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
	s = json_object_to_json_string_ext(obj, flags);
	if (!s) {
		json_object_put(obj);
		fprintf(stderr, "prrctl: out of memory\n");
		return -ENOMEM;
	}
	printf("%s\n", s);
	json_object_put(obj);
	return 0;
}

static int print_entries_json(const struct prr_entries *entries,
			      const struct prr_groups *groups)
{
	struct json_object *arr = json_object_new_array();
	struct json_object *obj;
	size_t g, i;

	if (!arr)
		goto nomem;
	for (g = 0; g < groups->n; g++) {
		for (i = 0; i < groups->v[g].n; i++) {
			obj = piece_json(entries, &groups->v[g], i);
			if (!obj || json_object_array_add(arr, obj)) {
				json_object_put(obj);
				json_object_put(arr);
				goto nomem;
			}
		}
	}
	return print_json(arr);

nomem:
	fprintf(stderr, "prrctl: out of memory\n");
	return -ENOMEM;
}

/* Text: one line per CPE.  JSON: one object per entry, CPE by CPE. */
int print_entries(const struct prr_entries *entries,
		  const struct prr_groups *groups)
{
	size_t i;

	if (opts.json)
		return print_entries_json(entries, groups);
	for (i = 0; i < groups->n; i++)
		print_group_text(entries, &groups->v[i]);
	return 0;
}

static int print_stats_json(const struct prr_stats *stats)
{
	struct json_object *obj = json_object_new_object();
	unsigned int i;

	if (!obj)
		goto nomem;
	for (i = 0; i <= PRR_STATS_A_MAX; i++) {
		if (!stats->present[i] || !stat_names[i])
			continue;
		if (!json_add(obj, stat_names[i],
			      json_object_new_uint64(stats->val[i]), false)) {
			json_object_put(obj);
			goto nomem;
		}
	}
	return print_json(obj);

nomem:
	fprintf(stderr, "prrctl: out of memory\n");
	return -ENOMEM;
}

int print_stats(const struct prr_stats *stats)
{
	unsigned int i;

	if (opts.json)
		return print_stats_json(stats);
	for (i = 0; i <= PRR_STATS_A_MAX; i++) {
		if (stats->present[i] && stat_names[i])
			printf("%s %llu\n", stat_names[i], stats->val[i]);
	}
	return 0;
}

static const char *unowned_name(__u8 unowned)
{
	return unowned <= PRR_UNOWNED_MAX ? unowned_names[unowned] : "unknown";
}

static const char *on_off(bool on)
{
	return on ? "on" : "off";
}

/* The words of "prrctl set" that restore these settings. */
void print_config_words(const struct prr_config *config)
{
	printf("source-check %s unowned %s entry-counters %s",
	       on_off(config->source_check), unowned_name(config->unowned),
	       on_off(config->entry_counters));
}

/* The settings as keys of @obj; false: out of memory. */
bool config_json_add(struct json_object *obj,
		     const struct prr_config *config)
{
	const char *unowned = unowned_name(config->unowned);

	return json_add(obj, "source_check",
			json_object_new_string(on_off(config->source_check)),
			false) &&
	       json_add(obj, "unowned", json_object_new_string(unowned),
			false) &&
	       json_add(obj, "entry_counters",
			json_object_new_string(on_off(config->entry_counters)),
			false);
}

int print_config(const struct prr_config *config)
{
	struct json_object *obj;

	if (!opts.json) {
		print_config_words(config);
		putchar('\n');
		return 0;
	}
	obj = json_object_new_object();
	if (!obj || !config_json_add(obj, config)) {
		json_object_put(obj);
		fprintf(stderr, "prrctl: out of memory\n");
		return -ENOMEM;
	}
	return print_json(obj);
}

static struct json_object *nat_json(const struct prr_nat *nat)
{
	char addr[INET_ADDRSTRLEN], prefix[INET_ADDRSTRLEN];
	struct json_object *obj = json_object_new_object();
	char dev[IF_NAMESIZE], from[INET_ADDRSTRLEN + 8];

	inet_ntop(AF_INET, &nat->addr, addr, sizeof(addr));
	inet_ntop(AF_INET, &nat->prefix, prefix, sizeof(prefix));
	snprintf(from, sizeof(from), "%s/%u", prefix, nat->plen);
	if (!obj ||
	    !json_add(obj, "addr", json_object_new_string(addr), false) ||
	    !json_add(obj, "from", json_object_new_string(from), false) ||
	    !json_add(obj, "dev",
		      json_string_or_null(nat->has_oif ?
					  dev_name(nat->oif, dev) : NULL),
		      !nat->has_oif)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

static void print_nat_text(const struct prr_nat *nat)
{
	char addr[INET_ADDRSTRLEN], from[INET_ADDRSTRLEN];
	char dev[IF_NAMESIZE];

	inet_ntop(AF_INET, &nat->addr, addr, sizeof(addr));
	inet_ntop(AF_INET, &nat->prefix, from, sizeof(from));
	printf("%s from %s/%u", addr, from, nat->plen);
	if (nat->has_oif)
		printf(" dev %s", dev_name(nat->oif, dev));
	putchar('\n');
}

/* Text: the arguments of "prrctl add-nat", one rule per line. */
int print_nats(const struct prr_nats *nats)
{
	struct json_object *arr, *obj;
	size_t i;

	if (!opts.json) {
		for (i = 0; i < nats->n; i++)
			print_nat_text(&nats->v[i]);
		return 0;
	}
	arr = json_object_new_array();
	if (!arr)
		goto nomem;
	for (i = 0; i < nats->n; i++) {
		obj = nat_json(&nats->v[i]);
		if (!obj || json_object_array_add(arr, obj)) {
			json_object_put(obj);
			json_object_put(arr);
			goto nomem;
		}
	}
	return print_json(arr);

nomem:
	fprintf(stderr, "prrctl: out of memory\n");
	return -ENOMEM;
}

/* "prrctl save": lines that "prrctl restore" and "prrctl -batch" read. */
void print_save(const struct prr_config *config,
		const struct prr_entries *entries,
		const struct prr_groups *groups, const struct prr_nats *nats)
{
	size_t i;

	fputs("set ", stdout);
	print_config_words(config);
	putchar('\n');
	for (i = 0; i < groups->n; i++) {
		fputs("add-cpe ", stdout);
		print_group_words(entries, &groups->v[i]);
		putchar('\n');
	}
	for (i = 0; i < nats->n; i++) {
		fputs("add-nat ", stdout);
		print_nat_text(&nats->v[i]);
	}
}
