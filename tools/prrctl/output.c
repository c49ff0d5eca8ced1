// SPDX-License-Identifier: GPL-2.0
/*
 * prrctl: text and JSON output of show, stats and the settings.
 *
 * The text form of an entry is the add-cpe grammar followed by its
 * counters, so that a line can be pasted back into "prrctl add-cpe".
 */
#include <errno.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <json-c/json.h>

#include "prrctl.h"

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

static void print_entry_words(const struct prr_entry *e)
{
	char addr[INET_ADDRSTRLEN], via[INET_ADDRSTRLEN];
	const char *action = action_name(e->action);
	char dev[IF_NAMESIZE];

	inet_ntop(AF_INET, &e->addr, addr, sizeof(addr));
	printf("%s port-value 0x%04x port-mask 0x%04x", addr, e->port_value,
	       e->port_mask);
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

static void print_entry_text(const struct prr_entry *e)
{
	print_entry_words(e);
	printf(" packets %llu bytes %llu\n", e->packets, e->bytes);
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

static struct json_object *entry_json(const struct prr_entry *e)
{
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
	     json_add(obj, "packets", json_object_new_uint64(e->packets),
		      false) &&
	     json_add(obj, "bytes", json_object_new_uint64(e->bytes), false);
	if (!ok) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

static int print_json(struct json_object *obj)
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

static int print_entries_json(const struct prr_entries *entries)
{
	struct json_object *arr = json_object_new_array();
	struct json_object *obj;
	size_t i;

	if (!arr)
		goto nomem;
	for (i = 0; i < entries->n; i++) {
		obj = entry_json(&entries->v[i]);
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

int print_entries(const struct prr_entries *entries)
{
	size_t i;

	if (opts.json)
		return print_entries_json(entries);
	for (i = 0; i < entries->n; i++)
		print_entry_text(&entries->v[i]);
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

/* Text: the words of "prrctl set" that restore these settings. */
int print_config(const struct prr_config *config)
{
	const char *check = config->source_check ? "on" : "off";
	struct json_object *obj;

	if (!opts.json) {
		printf("source-check %s unowned %s\n", check,
		       unowned_name(config->unowned));
		return 0;
	}
	obj = json_object_new_object();
	if (!obj ||
	    !json_add(obj, "source_check", json_object_new_string(check),
		      false) ||
	    !json_add(obj, "unowned",
		      json_object_new_string(unowned_name(config->unowned)),
		      false)) {
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
		const struct prr_entries *entries, const struct prr_nats *nats)
{
	size_t i;

	printf("set source-check %s unowned %s\n",
	       config->source_check ? "on" : "off",
	       unowned_name(config->unowned));
	for (i = 0; i < entries->n; i++) {
		fputs("add-cpe ", stdout);
		print_entry_words(&entries->v[i]);
		putchar('\n');
	}
	for (i = 0; i < nats->n; i++) {
		fputs("add-nat ", stdout);
		print_nat_text(&nats->v[i]);
	}
}
