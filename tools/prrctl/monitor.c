// SPDX-License-Identifier: GPL-2.0
/*
 * prrctl monitor: prints the changes of the table of the network namespace
 * as the kernel announces them on the PRR_MCGRP_TABLE multicast group, one
 * line per change with the time it was received: the log of port-set
 * assignments RFC 6346 §6 asks for.
 *
 * Besides the kernel's events the log says when it starts and stops and
 * when the kernel dropped notifications because the socket's buffer was
 * full ("lost"): a reader knows which stretch of time it covers, gaps
 * included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <json-c/json.h>

#include "prrctl.h"
#include "genl.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* Room for a burst (a flush or restore of a large table). */
#define MONITOR_RCVBUF	(8 << 20)
#define MONITOR_RX_SIZE	32768

struct monitor {
	struct prr_nl nl;
	__u32 group;
	bool has_cookie;		/* of our own namespace */
	__u64 cookie;
	char rx[MONITOR_RX_SIZE];
};

/* One line of the log. */
struct event {
	const char *name;
	const struct prr_entry *entry;	/* add, replace, del */
	const struct prr_config *config; /* config */
	bool counters;			/* text: print the entry's counters */
	bool has_cookie;
	__u64 cookie;
};

struct group_lookup {
	__u32 id;
	bool found;
};

/* One nest of CTRL_ATTR_MCAST_GROUPS: name and id of a group. */
static void group_nest(const struct nlattr *grp, struct group_lookup *look)
{
	const struct nlattr *attr;
	const char *name = NULL;
	bool has_id = false;
	__u32 id = 0;

	mnl_attr_for_each_nested(attr, grp) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_MCAST_GRP_NAME:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
				name = mnl_attr_get_str(attr);
			break;
		case CTRL_ATTR_MCAST_GRP_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
				id = mnl_attr_get_u32(attr);
				has_id = true;
			}
			break;
		}
	}
	if (name && has_id && !strcmp(name, PRR_MCGRP_TABLE)) {
		look->id = id;
		look->found = true;
	}
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *grp;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		mnl_attr_for_each_nested(grp, attr)
			group_nest(grp, data);
	}
	return MNL_CB_OK;
}

/* The id of the family's "table" group; reports a failure. */
static int find_group(struct monitor *m)
{
	struct group_lookup look = { 0 };
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;
	int ret;

	nlh = prr_nl_request(&m->nl, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	nlh->nlmsg_type = GENL_ID_CTRL;
	genl = mnl_nlmsg_get_payload(nlh);
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, PRR_GENL_NAME);
	ret = prr_nl_exchange(&m->nl, nlh, family_cb, &look);
	if (ret) {
		prr_nl_report(&m->nl, ret);
		return EXIT_FAIL;
	}
	if (!look.found) {
		fprintf(stderr,
			"prrctl: the prr module has no \"%s\" multicast group (a version without notifications?)\n",
			PRR_MCGRP_TABLE);
		return EXIT_FAIL;
	}
	m->group = look.id;
	return EXIT_OK;
}

/* Joins the group with a receive buffer big enough for bursts. */
static int subscribe(struct monitor *m)
{
	int fd = mnl_socket_get_fd(m->nl.sock);
	int size = MONITOR_RCVBUF;
	socklen_t len = sizeof(m->cookie);

	/* FORCE needs CAP_NET_ADMIN; the plain one is capped by rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mnl_socket_setsockopt(m->nl.sock, NETLINK_ADD_MEMBERSHIP,
				  &m->group, sizeof(m->group)) < 0) {
		fprintf(stderr, "prrctl: cannot join the \"%s\" group: %s\n",
			PRR_MCGRP_TABLE, strerror(errno));
		return EXIT_FAIL;
	}
	/* Linux 5.14+; the log then names the namespace it covers. */
	m->has_cookie = !getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE,
				    &m->cookie, &len) &&
			len == sizeof(m->cookie);
	return EXIT_OK;
}

/* RFC 3339 UTC time with microseconds, e.g. 2026-11-30T05:40:01.123456Z. */
static void format_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06ldZ", ts.tv_nsec / 1000);
}

static void print_event_text(const char *now, const struct event *ev)
{
	printf("%s %s", now, ev->name);
	if (ev->entry) {
		putchar(' ');
		print_entry_words(ev->entry);
		if (ev->counters && ev->entry->has_counters)
			printf(" packets %llu bytes %llu", ev->entry->packets,
			       ev->entry->bytes);
	}
	if (ev->config) {
		putchar(' ');
		print_config_words(ev->config);
	}
	putchar('\n');
}

static bool json_put(struct json_object *obj, const char *key,
		     struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

/* Appends the keys of @from (consumed) to @obj; values may be null. */
static bool json_append(struct json_object *obj, struct json_object *from)
{
	bool ok = true;

	if (!from)
		return false;
	json_object_object_foreach(from, key, val) {
		if (ok && json_object_object_add(obj, key,
						 json_object_get(val))) {
			json_object_put(val);
			ok = false;
		}
	}
	json_object_put(from);
	return ok;
}

static int print_event_json(const char *now, const struct event *ev)
{
	struct json_object *obj = json_object_new_object();
	bool ok;

	ok = obj && json_put(obj, "time", json_object_new_string(now)) &&
	     json_put(obj, "event", json_object_new_string(ev->name));
	if (ok && ev->has_cookie)
		ok = json_put(obj, "netns_cookie",
			      json_object_new_uint64(ev->cookie));
	if (ok && ev->entry)
		ok = json_append(obj, entry_json(ev->entry));
	if (ok && ev->config)
		ok = config_json_add(obj, ev->config);
	if (!ok) {
		json_object_put(obj);
		fprintf(stderr, "prrctl: out of memory\n");
		return -ENOMEM;
	}
	return print_json(obj);
}

/* Prints one line, flushed at once: the log is read as it grows. */
static int print_event(const struct event *ev)
{
	char now[40];
	int ret = 0;

	format_now(now, sizeof(now));
	if (opts.json)
		ret = print_event_json(now, ev);
	else
		print_event_text(now, ev);
	if (fflush(stdout) || ferror(stdout))
		return -EIO;
	return ret;
}

/* A notification of the kernel: one line, or nothing for unknown ones. */
static int notification_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[PRR_A_MAX + 1];
	struct monitor *m = data;
	struct prr_config config;
	struct prr_entry entry;
	struct event ev = { 0 };

	if (nlh->nlmsg_type != m->nl.family ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*genl))
		return MNL_CB_OK;
	if (parse_attrs(nlh, tb) < 0) {
		fprintf(stderr, "prrctl: malformed notification ignored\n");
		return MNL_CB_OK;
	}
	switch (genl->cmd) {
	case PRR_CMD_NEW_ENTRY:
		ev.name = nlh->nlmsg_flags & NLM_F_REPLACE ? "replace" : "add";
		break;
	case PRR_CMD_DEL_ENTRY:
		ev.name = "del";
		ev.counters = true;
		break;
	case PRR_CMD_SET_CONFIG:
		if (!config_from_attrs(tb, &config))
			return MNL_CB_OK;
		ev.name = "config";
		ev.config = &config;
		break;
	default:
		return MNL_CB_OK;	/* a newer module's event */
	}
	if (!ev.config) {
		if (parse_entry(tb, &entry) < 0) {
			fprintf(stderr,
				"prrctl: malformed notification ignored\n");
			return MNL_CB_OK;
		}
		ev.entry = &entry;
	}
	if (tb[PRR_A_NETNS_COOKIE]) {
		ev.has_cookie = true;
		ev.cookie = mnl_attr_get_u64(tb[PRR_A_NETNS_COOKIE]);
	}
	return print_event(&ev) ? MNL_CB_ERROR : MNL_CB_OK;
}

/* A line of the monitor itself: start, stop, lost. */
static int print_marker(const struct monitor *m, const char *name)
{
	struct event ev = {
		.name = name,
		.has_cookie = m->has_cookie,
		.cookie = m->cookie,
	};

	return print_event(&ev);
}

/* Reads what the socket holds; 0, or EXIT_FAIL after reporting. */
static int read_notifications(struct monitor *m)
{
	ssize_t len;

	len = mnl_socket_recvfrom(m->nl.sock, m->rx, sizeof(m->rx));
	if (len < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return EXIT_OK;
		/* The kernel dropped notifications: say so, go on. */
		if (errno == ENOBUFS)
			return print_marker(m, "lost") ? EXIT_FAIL : EXIT_OK;
		fprintf(stderr, "prrctl: cannot read notifications: %s\n",
			strerror(errno));
		return EXIT_FAIL;
	}
	if (mnl_cb_run(m->rx, len, 0, 0, notification_cb, m) == MNL_CB_ERROR)
		return EXIT_FAIL;
	return EXIT_OK;
}

/* SIGINT and SIGTERM arrive on a descriptor, so poll() sees them. */
static int signal_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	return fd;
}

static int monitor_loop(struct monitor *m, int sfd)
{
	struct pollfd pfd[2] = {
		{ .fd = mnl_socket_get_fd(m->nl.sock), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	int ret;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "prrctl: poll: %s\n", strerror(errno));
			return EXIT_FAIL;
		}
		/* Pending notifications first: they precede the signal. */
		if (pfd[0].revents) {
			ret = read_notifications(m);
			if (ret)
				return ret;
			continue;
		}
		if (pfd[1].revents)
			return print_marker(m, "stop") ? EXIT_FAIL : EXIT_OK;
	}
}

int cmd_monitor(int argc, char **argv)
{
	static struct monitor m;
	int ret, sfd;

	if (argc > 0)
		return usage_error("unexpected argument \"%s\"", argv[0]);
	if (batch_active())
		return usage_error("\"monitor\" does not go in a batch");
	sfd = signal_fd();
	if (sfd < 0) {
		fprintf(stderr, "prrctl: signalfd: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	ret = open_or_report(&m.nl);
	if (ret) {
		close(sfd);
		return ret;
	}
	ret = find_group(&m);
	if (!ret)
		ret = subscribe(&m);
	if (!ret)
		ret = print_marker(&m, "start") ? EXIT_FAIL : EXIT_OK;
	if (!ret)
		ret = monitor_loop(&m, sfd);
	prr_nl_close(&m.nl);
	close(sfd);
	return ret;
}
