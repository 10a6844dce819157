/* placeholder until implemented */
typedef int sl_placeholder_sl_time_t;
