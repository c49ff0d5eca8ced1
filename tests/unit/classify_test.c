// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the packet classifier (kmod/classify.c). */

#include <string.h>

#include "kselftest_harness.h"
#include "classify.h"

enum {
	ICMP = 1, TCP = 6, UDP = 17, DCCP = 33, GRE = 47, ESP = 50,
	SCTP = 132, UDPLITE = 136,
};

/* An IPv4 datagram of @len bytes: @ihl words of header, then @l4. */
static u32 build(u8 *pkt, u8 ihl, u8 proto, u16 frag, u32 len, u16 sport,
		 u16 dport)
{
	memset(pkt, 0, len > 128 ? 128 : len);
	pkt[0] = 0x40 | ihl;
	pkt[2] = len >> 8;
	pkt[3] = len & 0xff;
	pkt[6] = frag >> 8;
	pkt[7] = frag & 0xff;
	pkt[8] = 64;
	pkt[9] = proto;
	if (len >= ihl * 4u + 4) {
		pkt[ihl * 4] = sport >> 8;
		pkt[ihl * 4 + 1] = sport & 0xff;
		pkt[ihl * 4 + 2] = dport >> 8;
		pkt[ihl * 4 + 3] = dport & 0xff;
	}
	return len;
}

/* int, not the enum, to compare with the enumerators' type. */
static int classify_raw(const u8 *pkt, u32 avail, u32 len, u16 *port)
{
	return prr_classify(pkt, avail, len, port);
}

static int classify(const u8 *pkt, u32 len, u16 *port)
{
	u32 avail = len < PRR_CLASSIFY_MAX ? len : PRR_CLASSIFY_MAX;

	return classify_raw(pkt, avail, len, port);
}

TEST(ported_protocols_give_destination_port)
{
	const struct { u8 proto; u32 hdr; } p[] = {
		{ TCP, 20 }, { UDP, 8 }, { UDPLITE, 8 }, { SCTP, 12 },
		{ DCCP, 12 },
	};
	u8 pkt[128];
	u16 port;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(p); i++) {
		port = 0;
		build(pkt, 5, p[i].proto, 0, 20 + p[i].hdr, 40000, 0x0413);
		EXPECT_EQ(PRR_CLASS_PORT, classify(pkt, 20 + p[i].hdr, &port))
			TH_LOG("proto %u", p[i].proto);
		EXPECT_EQ(0x0413, port);
		/* One byte short of the smallest header: malformed. */
		build(pkt, 5, p[i].proto, 0, 19 + p[i].hdr, 40000, 0x0413);
		EXPECT_EQ(PRR_CLASS_MALFORMED,
			  classify(pkt, 19 + p[i].hdr, &port))
			TH_LOG("proto %u", p[i].proto);
	}
}

TEST(ip_options_are_skipped)
{
	u8 pkt[128];
	u16 port = 0;

	build(pkt, 15, UDP, 0, 60 + 8, 1, 65535);
	EXPECT_EQ(PRR_CLASS_PORT, classify(pkt, 68, &port));
	EXPECT_EQ(65535, port);
	build(pkt, 6, TCP, 0x4000 /* DF */, 24 + 20, 1, 0);
	EXPECT_EQ(PRR_CLASS_PORT, classify(pkt, 44, &port));
	EXPECT_EQ(0, port);
}

TEST(fragments_and_portless_protocols_have_no_port)
{
	u8 pkt[128];
	u16 port;

	build(pkt, 5, UDP, 0x2000 /* MF, first */, 100, 1, 2);
	EXPECT_EQ(PRR_CLASS_NO_PORT, classify(pkt, 100, &port));
	build(pkt, 5, UDP, 0x0010 /* offset 128 */, 100, 1, 2);
	EXPECT_EQ(PRR_CLASS_NO_PORT, classify(pkt, 100, &port));
	build(pkt, 5, GRE, 0, 100, 1, 2);
	EXPECT_EQ(PRR_CLASS_NO_PORT, classify(pkt, 100, &port));
	build(pkt, 5, ESP, 0, 100, 1, 2);
	EXPECT_EQ(PRR_CLASS_NO_PORT, classify(pkt, 100, &port));
	build(pkt, 5, ICMP, 0, 28, 0x0800, 2);
	EXPECT_EQ(PRR_CLASS_NO_PORT, classify(pkt, 28, &port));
}

TEST(bad_ip_headers_are_malformed)
{
	u8 pkt[128];
	u16 port;

	build(pkt, 4, UDP, 0, 28, 1, 2);		/* IHL below 5 */
	EXPECT_EQ(PRR_CLASS_MALFORMED, classify(pkt, 28, &port));
	build(pkt, 5, UDP, 0, 28, 1, 2);
	pkt[0] = 0x65;					/* version 6 */
	EXPECT_EQ(PRR_CLASS_MALFORMED, classify(pkt, 28, &port));
	build(pkt, 5, UDP, 0, 28, 1, 2);
	EXPECT_EQ(PRR_CLASS_MALFORMED, classify_raw(pkt, 28, 27, &port));
	build(pkt, 15, UDP, 0, 40, 1, 2);		/* options past end */
	EXPECT_EQ(PRR_CLASS_MALFORMED, classify(pkt, 40, &port));
	EXPECT_EQ(PRR_CLASS_MALFORMED, classify_raw(pkt, 19, 19, &port));
	EXPECT_EQ(PRR_CLASS_MALFORMED, classify_raw(pkt, 0, 0, &port));
}

/* Every 1-64 byte prefix of every header shape: never a read past @avail. */
TEST(truncations_never_read_out_of_bounds)
{
	const u8 protos[] = { TCP, UDP, UDPLITE, SCTP, DCCP, GRE, ICMP };
	u8 pkt[128], *copy;
	u32 i, len, ihl;
	u16 port;

	for (i = 0; i < sizeof(protos); i++) {
		for (ihl = 5; ihl <= 15; ihl += 5) {
			build(pkt, ihl, protos[i], 0, 128, 7, 9);
			for (len = 0; len <= PRR_CLASSIFY_MAX; len++) {
				copy = malloc(len ? len : 1);
				memcpy(copy, pkt, len);
				prr_classify(copy, len, 128, &port);
				free(copy);
			}
		}
	}
}

TEST_HARNESS_MAIN
