/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prrctl: declarations shared by the command, netlink and output code.
 */
#ifndef PRRCTL_H
#define PRRCTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <linux/types.h>
#include <linux/prr.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit status: success, request failed (kernel or system), bad usage. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* Global options, set in main() before a command runs. */
struct prrctl_opts {
	bool json;
	bool pretty;
	bool force;			/* -force: a batch goes on after errors */
	const char *batch;		/* -batch FILE */
	const char *netns;
};

extern struct prrctl_opts opts;

/* One entry of the table as read back from the kernel. */
struct prr_entry {
	struct in_addr addr;
	__u16 port_value;
	__u16 port_mask;
	__u8 action;
	bool has_via;
	struct in_addr via;
	bool has_oif;
	__u32 oif;
	bool has_counters;		/* entry-counters was on for it */
	__u64 packets;
	__u64 bytes;
	__u32 cpe_id;			/* PRR_A_CPE_ID, 0 if not reported */
	char name[PRR_NAME_MAX];	/* "" if none */
};

struct prr_entries {
	struct prr_entry *v;
	size_t n;
	size_t cap;
};

/* Namespace counters; only those the kernel reported are present. */
struct prr_stats {
	bool replied;
	bool present[PRR_STATS_A_MAX + 1];
	__u64 val[PRR_STATS_A_MAX + 1];
};

/* A NAT rule of the CPE role. */
struct prr_nat {
	struct in_addr addr;
	struct in_addr prefix;
	__u8 plen;
	bool has_oif;
	__u32 oif;
};

struct prr_nats {
	struct prr_nat *v;
	size_t n;
	size_t cap;
};

/* Namespace settings as read back from the kernel. */
struct prr_config {
	bool replied;
	bool source_check;
	__u8 unowned;			/* enum prr_unowned */
	bool entry_counters;
};

/*
 * Prints "prrctl: <message>" on stderr and returns EXIT_USAGE.  In a batch,
 * the message waits until the lines before are sent, then names the line.
 */
int usage_error(const char *fmt, ...);

typedef int (*command_fn)(int argc, char **argv);

/* The function of command @name, or NULL. */
command_fn find_command(const char *name);

struct nlmsghdr;
struct nlattr;
struct json_object;

/* Adds a request's attributes from what the command line gave. */
typedef void (*put_attrs_t)(struct nlmsghdr *nlh, const void *arg);

/* batch.c: -batch FILE, and the requests of commands inside a batch. */
int run_batch(const char *file);
bool batch_active(void);
int batch_queue(__u8 cmd, put_attrs_t put, const void *arg);
bool batch_hold_usage(const char *fmt, va_list ap);

/* Subcommands; argv holds the words after the command name. */
int cmd_add_cpe(int argc, char **argv);
int cmd_del_cpe(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_flush(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_add_nat(int argc, char **argv);
int cmd_del_nat(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

/*
 * The entries of one CPE, as show prints them on one line: @n entries from
 * entries->v[@first] on (after group_entries() sorted them).
 */
struct prr_group {
	size_t first;
	size_t n;
};

struct prr_groups {
	struct prr_group *v;
	size_t n;
};

/*
 * Sorts @entries and splits them into CPEs (see group_entries() in
 * output.c); 0 or -ENOMEM.
 */
int group_entries(struct prr_entries *entries, struct prr_groups *groups);

/* Output on stdout, text or JSON as chosen by opts; 0 or -errno. */
int print_entries(const struct prr_entries *entries,
		  const struct prr_groups *groups);
int print_stats(const struct prr_stats *stats);
int print_config(const struct prr_config *config);
void print_config_words(const struct prr_config *config);
bool config_json_add(struct json_object *obj,
		     const struct prr_config *config);
/* Reads the settings of a PRR_CMD_GET_CONFIG reply or notification. */
bool config_from_attrs(const struct nlattr **tb, struct prr_config *config);
int print_nats(const struct prr_nats *nats);

/* An entry in the add-cpe grammar, without counters nor newline. */
void print_entry_words(const struct prr_entry *e);
/* An entry as "prrctl -j show" prints it; NULL when out of memory. */
struct json_object *entry_json(const struct prr_entry *e);
/* Prints @obj on one line (-p: indented) and frees it; 0 or -ENOMEM. */
int print_json(struct json_object *obj);

void print_save(const struct prr_config *config,
		const struct prr_entries *entries,
		const struct prr_groups *groups, const struct prr_nats *nats);

struct prr_nl;

/* Opens the netlink socket; reports why not and returns EXIT_FAIL. */
int open_or_report(struct prr_nl *nl);

/* Validates a message's attributes into tb[PRR_A_MAX + 1]; -1 if bad. */
int parse_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb);
/* The entry in @tb; -1 with errno EBADMSG if a key attribute is missing. */
int parse_entry(const struct nlattr **tb, struct prr_entry *e);

/* Dumps the NAT rules into @nats; 0 or -errno (not reported). */
int get_nats(struct prr_nl *nl, struct prr_nats *nats);

extern const char *const unowned_names[PRR_UNOWNED_MAX + 1];

#endif /* PRRCTL_H */
