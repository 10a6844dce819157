/*
 * eth_tx: the end of the forwarding path. Sends each frame on the
 * thread's lport of its output interface; what the lport refuses, and
 * frames for an interface the thread has no lport on, are counted and
 * freed.
 */
#include <sluice/sl_pktdev.h>

#include "../cnet_private.h"

#define ETH_TX_CHUNK 256

static uint16_t
eth_tx_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	struct sl_mbuf *out[ETH_TX_CHUNK];
	uint8_t pidx[ETH_TX_CHUNK];
	unsigned base, n, i, p, k, sent, total = 0;

	(void)g;
	for (base = 0; base < nb_objs; base += n) {
		n = nb_objs - base;
		if (n > ETH_TX_CHUNK)
			n = ETH_TX_CHUNK;
		for (i = 0; i < n; i++) {
			struct sl_mbuf *m = objs[base + i];
			int ifx = cnet_meta(m)->out_ifindex;

			pidx[i] = UINT8_MAX;
			for (p = 0; p < t->nports; p++)
				if (t->ifindex[p] == ifx) {
					pidx[i] = (uint8_t)p;
					break;
				}
			if (pidx[i] == UINT8_MAX) {
				t->drops[SL_CNET_DROP_NO_TX_PORT]++;
				sl_mbuf_free(m);
			}
		}
		for (p = 0; p < t->nports; p++) {
			k = 0;
			for (i = 0; i < n; i++)
				if (pidx[i] == p)
					out[k++] = objs[base + i];
			if (k == 0)
				continue;
			sent = sl_pktdev_tx_burst(t->ports[p], out,
						  (uint16_t)k);
			if (sent < k) {
				t->drops[SL_CNET_DROP_TX_FULL] += k - sent;
				sl_mbuf_free_bulk(out + sent, k - sent);
			}
			total += sent;
		}
	}
	return (uint16_t)total;
}

static struct sl_node_register eth_tx_node = {
	.name = "eth_tx",
	.process = eth_tx_process,
	.init = cnet_node_init,
};
SL_NODE_REGISTER(eth_tx_node)
