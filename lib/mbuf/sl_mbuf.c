/* placeholder until implemented */
typedef int sl_placeholder_sl_mbuf_t;
