/*
 * punt and drop: the ends of the path for what the stack does not send.
 * punt counts and frees what is meant for the host: with net_af_xdp in
 * steer=rules mode and a transit rule, the kernel gets ARP, OSPF and the
 * traffic to its own addresses before sluice sees them. drop counts by
 * the reason the sending node wrote in the packet's metadata.
 */
#include "cnet_private.h"

static uint16_t
punt_process(struct sl_graph *g, struct sl_node *node, void **objs,
	     uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);

	(void)g;
	t->drops[SL_CNET_DROP_PUNT] += nb_objs;
	sl_mbuf_free_bulk((struct sl_mbuf *const *)objs, nb_objs);
	return nb_objs;
}

static uint16_t
drop_process(struct sl_graph *g, struct sl_node *node, void **objs,
	     uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	unsigned i, r;

	(void)g;
	for (i = 0; i < nb_objs; i++) {
		r = cnet_meta(objs[i])->reason;
		t->drops[r < SL_CNET_DROP_MAX ? r : SL_CNET_DROP_NOT_IP4]++;
	}
	sl_mbuf_free_bulk((struct sl_mbuf *const *)objs, nb_objs);
	return nb_objs;
}

static struct sl_node_register punt_node = {
	.name = "punt",
	.process = punt_process,
	.init = cnet_node_init,
};
SL_NODE_REGISTER(punt_node)

static struct sl_node_register drop_node = {
	.name = "drop",
	.process = drop_process,
	.init = cnet_node_init,
};
SL_NODE_REGISTER(drop_node)
