/*
 * IPv4 header arithmetic of cnet: the checks ip4_input makes before a
 * packet may be forwarded, the Internet checksum (and UDP's, with its
 * pseudo-header) and the incremental update of the checksum when
 * ip4_forward decrements the TTL.
 */
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <string.h>

#include "../cnet_private.h"

uint32_t
cnet_sum_partial(const void *data, uint32_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint16_t w;

	while (len >= 2) {
		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len != 0) {
		w = 0;
		memcpy(&w, p, 1);
		sum += w;
	}
	return sum;
}

uint16_t
cnet_sum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t
sl_cnet_cksum(const void *data, uint32_t len)
{
	return cnet_sum_fold(cnet_sum_partial(data, len, 0));
}

uint16_t
cnet_udp4_cksum(const void *ip, const void *udp, uint16_t len)
{
	const cnet_ip4_hdr *h = ip;
	uint8_t proto[2] = {0, IPPROTO_UDP};
	uint16_t be_len = htons(len);
	uint32_t sum;

	sum = cnet_sum_partial(&h->saddr, 8, 0); /* saddr, daddr */
	sum = cnet_sum_partial(proto, 2, sum);
	sum = cnet_sum_partial(&be_len, 2, sum);
	return cnet_sum_fold(cnet_sum_partial(udp, len, sum));
}

unsigned
sl_cnet_ip4_check(const void *ip, uint32_t len)
{
	const uint8_t *h = ip;
	uint32_t hlen, tot;

	if (len < sizeof(cnet_ip4_hdr))
		return SL_CNET_DROP_TRUNCATED + 1;
	if ((h[0] >> 4) != 4)
		return SL_CNET_DROP_BAD_VERSION + 1;
	hlen = (uint32_t)(h[0] & 0xf) * 4;
	if (hlen < sizeof(cnet_ip4_hdr))
		return SL_CNET_DROP_BAD_IHL + 1;
	if (hlen > len)
		return SL_CNET_DROP_TRUNCATED + 1;
	if (sl_cnet_cksum(h, hlen) != 0)
		return SL_CNET_DROP_BAD_CKSUM + 1;
	tot = (uint32_t)h[2] << 8 | h[3];
	if (tot < hlen || tot > len)
		return SL_CNET_DROP_BAD_LEN + 1;
	return 0;
}

void
sl_cnet_ip4_ttl_dec(void *ip)
{
	cnet_ip4_hdr *h = ip;
	uint32_t sum;
	uint16_t old, new;

	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m the 16-bit word
	 * holding TTL and protocol */
	old = (uint16_t)(h->ttl << 8 | h->protocol);
	h->ttl--;
	new = (uint16_t)(h->ttl << 8 | h->protocol);
	sum = (uint16_t)~ntohs(h->check);
	sum += (uint16_t)~old;
	sum += new;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	h->check = htons((uint16_t)~sum);
}
