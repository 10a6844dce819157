/* Parsing of lport options "key=value,key=value" for backends. */
#define SL_LOG_MODULE "pktdev"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/sl_log.h"
#include "sl_pktdev_driver.h"

#define KVARGS_MAX 32

struct sl_kvargs {
	char port[SL_PORT_NAMESIZE];
	unsigned n;
	char *key[KVARGS_MAX];
	char *val[KVARGS_MAX];
	char *buf;
};

static void
keys_join(const char *const *valid, char *out, size_t len)
{
	size_t off = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; valid != NULL && valid[i] != NULL && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					i ? ", " : "", valid[i]);
	if (out[0] == '\0')
		snprintf(out, len, "none");
}

static bool
key_valid(const char *key, const char *const *valid)
{
	unsigned i;

	for (i = 0; valid != NULL && valid[i] != NULL; i++)
		if (strcmp(key, valid[i]) == 0)
			return true;
	return false;
}

struct sl_kvargs *
sl_kvargs_parse(const char *port, const char *s, const char *const *valid)
{
	char *item, *save = NULL, *eq, list[512];
	struct sl_kvargs *kv;
	unsigned i;

	kv = calloc(1, sizeof(*kv));
	if (kv == NULL)
		goto nomem;
	snprintf(kv->port, sizeof(kv->port), "%s", port != NULL ? port : "?");
	kv->buf = strdup(s != NULL ? s : "");
	if (kv->buf == NULL)
		goto free_kv;
	for (item = strtok_r(kv->buf, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		eq = strchr(item, '=');
		if (eq == NULL || eq == item) {
			SL_ERR("%s: option '%s' is not of the form key=value",
			       kv->port, item);
			goto invalid;
		}
		*eq = '\0';
		if (!key_valid(item, valid)) {
			keys_join(valid, list, sizeof(list));
			SL_ERR("%s: unknown option '%s' (this backend accepts: "
			       "%s)",
			       kv->port, item, list);
			goto invalid;
		}
		for (i = 0; i < kv->n; i++)
			if (strcmp(kv->key[i], item) == 0) {
				SL_ERR("%s: option '%s' given twice", kv->port,
				       item);
				goto invalid;
			}
		if (kv->n == KVARGS_MAX) {
			SL_ERR("%s: more than %d options", kv->port,
			       KVARGS_MAX);
			goto invalid;
		}
		kv->key[kv->n] = item;
		kv->val[kv->n] = eq + 1;
		kv->n++;
	}
	return kv;
invalid:
	sl_kvargs_free(kv);
	errno = EINVAL;
	return NULL;
free_kv:
	free(kv);
nomem:
	errno = ENOMEM;
	return NULL;
}

void
sl_kvargs_free(struct sl_kvargs *kv)
{
	if (kv == NULL)
		return;
	free(kv->buf);
	free(kv);
}

const char *
sl_kvargs_port(const struct sl_kvargs *kv)
{
	return kv->port;
}

const char *
sl_kvargs_str(const struct sl_kvargs *kv, const char *key, const char *def)
{
	unsigned i;

	for (i = 0; kv != NULL && i < kv->n; i++)
		if (strcmp(kv->key[i], key) == 0)
			return kv->val[i];
	return def;
}

int
sl_kvargs_u64(const struct sl_kvargs *kv, const char *key, uint64_t def,
	      uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = sl_kvargs_str(kv, key, NULL);
	unsigned long long v;
	char *end;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (s[0] == '\0' || s[0] == '-' || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		SL_ERR("%s: option '%s': '%s' is not a number between %llu "
		       "and %llu",
		       kv->port, key, s, (unsigned long long)min,
		       (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
sl_kvargs_bool(const struct sl_kvargs *kv, const char *key, bool def, bool *out)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};
	const char *s = sl_kvargs_str(kv, key, NULL);
	unsigned i;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	for (i = 0; i < SL_DIM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	SL_ERR("%s: option '%s': '%s' is not a boolean (yes/no, true/false, "
	       "on/off, 1/0)",
	       kv->port, key, s);
	return -EINVAL;
}

int
sl_kvargs_choice(const struct sl_kvargs *kv, const char *key, const char *def,
		 const char *const *choices)
{
	const char *s = sl_kvargs_str(kv, key, def);
	char list[256];
	int i;

	for (i = 0; choices[i] != NULL; i++)
		if (s != NULL && strcmp(s, choices[i]) == 0)
			return i;
	keys_join(choices, list, sizeof(list));
	SL_ERR("%s: option '%s': '%s' is not one of: %s", kv->port, key,
	       s != NULL ? s : "(none)", list);
	return -EINVAL;
}
