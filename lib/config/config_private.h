/*
 * Internals of the JSONC configuration loader (sl_config.h), shared by its
 * files:
 *   config_pos.c      where each key and value sits in the text
 *   config_check.c    error reporting and typed reads of values
 *   sl_config.c       load, parse, free; application, defaults, umems
 *   config_cpus.c     lcore-groups and threads
 *   config_lport.c    lports and lport-groups
 *   config_options.c  options{} accessors
 *   config_print.c    sl_config_print(), sl_config_port_cfg()
 */
#ifndef CONFIG_PRIVATE_H
#define CONFIG_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "sluice/sl_config.h"

/* Errors logged by one load; the rest are counted, not logged. */
#define CFG_MAX_ERRORS 50
/* Most entries of each section. */
#define CFG_MAX_UMEMS 32
#define CFG_MAX_LPORTS SL_PORT_MAX
#define CFG_MAX_GROUPS 64
#define CFG_MAX_THREADS 64
/* Most CPUs of the machine (ids 0..CFG_MAX_CPUS-1). */
#define CFG_MAX_CPUS 1024
/* Largest file sl_config_load() reads. */
#define CFG_MAX_FILE (1u << 20)
/* Longest key path in messages, e.g. lports."eth0:0".qid. */
#define CFG_PATHSIZE 256
/* Longest network device name, including the NUL (IFNAMSIZ). */
#define CFG_IFNAMSIZE 16

/* Units of the sizes in the file. */
#define CFG_KILO 1024u
/* Limits of defaults{} and umems{} values, in the file's units. */
#define CFG_BUFCNT_MAX 65536 /* x1024 buffers */
#define CFG_BUFSZ_MAX 64     /* KB */
#define CFG_DESC_MAX 32	     /* x1024 descriptors */

/* Built-in defaults (in the file's units). */
#define CFG_DEF_BUFCNT 16
#define CFG_DEF_BUFSZ 2
#define CFG_DEF_DESC 2
#define CFG_DEF_CACHE 256
#define CFG_DEF_PMD "net_af_xdp"
#define CFG_DEF_GROUP "default"
#define CFG_DEF_UMEM "default"

/* ---- positions (config_pos.c) ---- */

/* One key of an object or element of an array, by its container. */
struct cfg_slot {
	const void *parent;	      /* the json-c object or array */
	char *key;		      /* NULL for an array element */
	uint32_t idx;		      /* array index */
	struct sl_config_pos key_pos; /* the key (the value's for elements) */
	struct sl_config_pos val_pos; /* the value */
	struct sl_config_pos dup;     /* an earlier same key, or 0:0 */
	struct cfg_slot *next;
};

/* options.<key> read as a string array, kept for sl_config_opt_strv(). */
struct cfg_strv {
	char *key;
	const char **v;
	struct cfg_strv *next;
};

/* The position index: sl_config.where. */
struct cfg_where {
	struct cfg_slot **buckets;
	uint32_t nbuckets;
	struct sl_config_pos root; /* the document's value */
	struct cfg_strv *strv;
};

struct cfg_where *cfg_where_build(const char *text, size_t len,
				  struct json_object *root);
void cfg_where_free(struct cfg_where *w);
const struct cfg_slot *cfg_where_get(const struct cfg_where *w,
				     const void *parent, const char *key,
				     uint32_t idx);
/* Offset of the first byte after off that is no space or comment. */
size_t cfg_text_skip(const char *text, size_t len, size_t off);
/* Line and column of a byte offset (columns count UTF-8 characters). */
struct sl_config_pos cfg_text_pos(const char *text, size_t off);

/* ---- checking (config_check.c) ---- */

/* An error kept until the load ends, to be logged in file order. */
struct cfg_msg {
	struct sl_config_pos pos;
	unsigned seq; /* order of discovery, among equal positions */
	char text[CFG_PATHSIZE + 384];
};

/* One load in progress. */
struct cfg_ctx {
	struct sl_config *cfg;
	const char *file; /* as given, for messages */
	struct json_object *root;
	struct sl_config_umem defaults; /* defaults{} applied */
	unsigned nerr;
	struct cfg_msg *msgs; /* the first CFG_MAX_ERRORS errors */
	bool nomem;
	/* lport-groups: the thread each expanded lport goes to */
	struct cfg_assign *assign;
	uint32_t nassign;
	/* thread owning each lport (index + 1; 0: none) */
	uint32_t owner[CFG_MAX_LPORTS];
};

/* A value being checked: json-c object (NULL for null), where, key path. */
struct cfg_val {
	struct json_object *o;
	struct sl_config_pos key_pos, pos;
	char path[CFG_PATHSIZE];
};

/* A key accepted in the grammar but refused in one place, and why. */
struct cfg_refused {
	const char *key;
	const char *why;
};

void cfg_err(struct cfg_ctx *c, struct sl_config_pos pos, const char *path,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cfg_errors_flush(struct cfg_ctx *c);
void cfg_verr(const char *file, struct sl_config_pos pos, const char *path,
	      const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
void cfg_path_key(char *out, const char *parent, const char *key);
void cfg_val_root(struct cfg_ctx *c, struct cfg_val *v);
bool cfg_get(struct cfg_ctx *c, const struct cfg_val *parent, const char *key,
	     struct cfg_val *out);
bool cfg_get_alias(struct cfg_ctx *c, const struct cfg_val *parent,
		   const char *key, const char *alias, struct cfg_val *out);
void cfg_member(struct cfg_ctx *c, const struct cfg_val *parent,
		const char *key, struct json_object *o, struct cfg_val *out);
void cfg_elem(struct cfg_ctx *c, const struct cfg_val *parent, uint32_t idx,
	      struct cfg_val *out);
bool cfg_object(struct cfg_ctx *c, const struct cfg_val *v,
		const char *const *keys, const struct cfg_refused *refused);
bool cfg_array(struct cfg_ctx *c, const struct cfg_val *v, size_t min,
	       size_t max);
bool cfg_uint(struct cfg_ctx *c, const struct cfg_val *v, uint32_t min,
	      uint32_t max, uint32_t *out);
bool cfg_bool(struct cfg_ctx *c, const struct cfg_val *v, bool *out);
bool cfg_str(struct cfg_ctx *c, const struct cfg_val *v, char *buf, size_t size,
	     const char *what);
int cfg_choice(struct cfg_ctx *c, const struct cfg_val *v,
	       const char *const *choices);
bool cfg_name(struct cfg_ctx *c, const struct cfg_val *v, const char *name,
	      size_t size, const char *what);
const char *cfg_got(struct json_object *o, char *buf, size_t len);
void cfg_list(char *out, size_t len, const char *const *items);
void cfg_names(char *out, size_t len, const char *first, size_t stride,
	       uint32_t n);
int cfg_range(const char *s, uint32_t max, uint32_t *lo, uint32_t *hi);

/* ---- sections ---- */

/* Read one umem of umems{} or defaults{} (sl_config.c). */
struct sl_config_umem *cfg_umem_add(struct cfg_ctx *c, const char *name,
				    struct sl_config_pos pos);
int cfg_umem_find(const struct sl_config *cfg, const char *name);
void cfg_groups_parse(struct cfg_ctx *c, const struct cfg_val *root);
void cfg_threads_parse(struct cfg_ctx *c, const struct cfg_val *root);
void cfg_lports_parse(struct cfg_ctx *c, const struct cfg_val *root);
void cfg_lport_groups_parse(struct cfg_ctx *c, const struct cfg_val *root);
void cfg_assign_resolve(struct cfg_ctx *c);
int cfg_group_find(const struct sl_config *cfg, const char *name);
int cfg_thread_find(const struct sl_config *cfg, const char *name);
bool cfg_thread_add_lport(struct cfg_ctx *c, uint32_t t, uint32_t lport,
			  const struct cfg_val *v);

/* The lports a group sends to a thread (config_lport.c). */
struct cfg_assign {
	uint32_t lport;
	struct cfg_val thread; /* the element of threads[] */
};

bool cfg_pmd_is_af_xdp(const char *pmd);
bool cfg_pmd_has_device(const char *pmd);

static inline struct cfg_where *
cfg_where_of(const struct sl_config *cfg)
{
	return (struct cfg_where *)cfg->where;
}

#endif /* CONFIG_PRIVATE_H */
