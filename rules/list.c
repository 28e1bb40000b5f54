/*
 * list.c - the effective policy, for people and for other modules.
 */
#include <string.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

/*
 * One value a line, "FILE:LINE\t[SECTION] KEY = VALUE", sections in the
 * order decisions consult them (exceptions first), values in load order;
 * a value a later one replaced is left out.
 */
void rules_list(const struct rules *r, FILE *out)
{
	const struct rules_entry *e;
	int s;
	size_t i;

	for (s = 0; s < RULES_NSECTIONS; s++) {
		for (i = 0; i < r->n; i++) {
			e = &r->entries[i];
			if ((int)e->key->section != s || e->overridden)
				continue;
			fprintf(out, "%s:%u\t[%s] %s = %s\n", e->origin.file,
				e->origin.line, e->origin.section,
				e->key->name, e->value);
		}
	}
}

void rules_foreach_value(const struct rules *r, const char *section,
			 const char *key,
			 void (*fn)(const char *value,
				    const struct rule_origin *origin,
				    void *payload),
			 void *payload)
{
	const struct rules_entry *e;
	size_t i;

	for (i = 0; i < r->n; i++) {
		e = &r->entries[i];
		if (strcmp(e->origin.section, section) == 0 &&
		    strcmp(e->key->name, key) == 0)
			fn(e->value, &e->origin, payload);
	}
}
