/*
 * Capture of the packets entering or leaving chosen nodes into a pcap
 * file, through libpcap (pcap_open_dead + pcap_dump_open + pcap_dump).
 * The debug walk calls graph_capture_write() with the objects to write;
 * they are mbufs, and a chain is written as one packet (linearised into a
 * buffer of snaplen bytes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <pcap/pcap.h>

#define SL_LOG_MODULE "graph"
#include "sluice/sl_log.h"
#include "sluice/sl_mbuf.h"

#include "graph_private.h"

/** Largest snaplen accepted (libpcap's own maximum). */
#define CAPTURE_SNAPLEN_MAX 262144u
#define CAPTURE_SNAPLEN_DEFAULT 65535u

struct graph_capture {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	uint32_t snaplen;
	uint64_t written;
	uint8_t buf[]; /* snaplen bytes: one linearised packet */
};

/* Copy the first bytes of a chain, at most len. @return bytes copied. */
static uint32_t
capture_linearize(const struct sl_mbuf *m, uint8_t *buf, uint32_t len)
{
	uint32_t done = 0, take;
	unsigned segs = 0;

	while (m != NULL && done < len && segs++ < SL_MBUF_MAX_SEGS) {
		take = SL_MIN((uint32_t)m->data_len, len - done);
		memcpy(buf + done, sl_mbuf_data_addr(m), take);
		done += take;
		m = m->next;
	}
	return done;
}

void
graph_capture_write(struct graph_priv *gp, void *const *objs, uint32_t n)
{
	struct graph_capture *c = gp->cap;
	struct pcap_pkthdr h;
	struct timeval tv;
	uint32_t i;

	if (c == NULL || n == 0)
		return;
	gettimeofday(&tv, NULL);
	h.ts = tv;
	for (i = 0; i < n; i++) {
		const struct sl_mbuf *m = objs[i];

		h.caplen = capture_linearize(m, c->buf, c->snaplen);
		h.len = SL_MAX(m->pkt_len, h.caplen);
		pcap_dump((u_char *)c->dumper, &h, c->buf);
		c->written++;
	}
}

int
sl_graph_capture_open(struct sl_graph *g, const char *path, int linktype,
		      uint32_t snaplen)
{
	struct graph_priv *gp;
	struct graph_capture *c;
	int err;

	if (g == NULL || path == NULL || snaplen > CAPTURE_SNAPLEN_MAX)
		return -EINVAL;
	gp = graph_priv(g);
	if (gp->cap != NULL)
		return -EBUSY;
	if (snaplen == 0)
		snaplen = CAPTURE_SNAPLEN_DEFAULT;
	c = calloc(1, sizeof(*c) + snaplen);
	if (c == NULL)
		return -ENOMEM;
	c->snaplen = snaplen;
	c->pcap = pcap_open_dead(linktype, (int)snaplen);
	if (c->pcap == NULL) {
		err = -ENOMEM;
		goto free_cap;
	}
	errno = 0;
	c->dumper = pcap_dump_open(c->pcap, path);
	if (c->dumper == NULL) {
		err = errno != 0 ? -errno : -EIO;
		SL_ERR("graph '%s': cannot open capture file %s: %s", gp->name,
		       path, pcap_geterr(c->pcap));
		goto close_pcap;
	}
	pthread_mutex_lock(&gp->lock);
	gp->cap = c;
	graph_debug_update(gp);
	pthread_mutex_unlock(&gp->lock);
	return 0;
close_pcap:
	pcap_close(c->pcap);
free_cap:
	free(c);
	return err;
}

int
sl_graph_capture_node(struct sl_graph *g, const char *node, unsigned dirs)
{
	struct graph_priv *gp;
	struct sl_node *n;
	unsigned old;

	if (g == NULL || node == NULL ||
	    (dirs & ~(SL_GRAPH_CAPTURE_IN | SL_GRAPH_CAPTURE_OUT)) != 0)
		return -EINVAL;
	gp = graph_priv(g);
	n = sl_graph_node_get(g, node);
	if (n == NULL)
		return -ENOENT;
	pthread_mutex_lock(&gp->lock);
	if (gp->cap == NULL) {
		pthread_mutex_unlock(&gp->lock);
		return -EBADF;
	}
	old = n->capture;
	__atomic_store_n(&n->capture, (uint8_t)dirs, __ATOMIC_RELAXED);
	gp->nb_capture += (dirs != 0) - (old != 0);
	graph_debug_update(gp);
	pthread_mutex_unlock(&gp->lock);
	return 0;
}

ssize_t
graph_capture_end(struct graph_priv *gp)
{
	struct graph_capture *c;
	ssize_t written;
	uint32_t i;
	int flushed;

	pthread_mutex_lock(&gp->lock);
	c = gp->cap;
	if (c == NULL) {
		pthread_mutex_unlock(&gp->lock);
		return -EBADF;
	}
	for (i = 0; i < gp->g.nb_nodes; i++)
		__atomic_store_n(&gp->nodes[i]->capture, 0, __ATOMIC_RELAXED);
	gp->nb_capture = 0;
	gp->cap = NULL;
	graph_debug_update(gp);
	pthread_mutex_unlock(&gp->lock);

	flushed = pcap_dump_flush(c->dumper);
	pcap_dump_close(c->dumper);
	pcap_close(c->pcap);
	if (flushed != 0) {
		SL_ERR("graph '%s': capture file incomplete: flush failed",
		       gp->name);
		free(c);
		return -EIO;
	}
	written = (ssize_t)c->written;
	free(c);
	return written;
}

ssize_t
sl_graph_capture_close(struct sl_graph *g)
{
	if (g == NULL)
		return -EINVAL;
	return graph_capture_end(graph_priv(g));
}
