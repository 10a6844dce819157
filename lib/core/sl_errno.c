/* placeholder until implemented */
typedef int sl_placeholder_sl_errno_t;
