/*
 * pii_digits_dump.c - a test helper (not installed): prints the bounds of
 * pii_shape.h and every built-in pattern's Hyperscan expression, for
 * tests/pii_digits_check.py to prove that each pattern flagged P_DIGITS
 * keeps them (the shape scan would miss its matches otherwise).
 *
 * Output: "bounds LEAD TRAIL GAP", then one line per pattern:
 * "INDEX<TAB>DIGITS<TAB>ENTITY<TAB>NAME<TAB>EXPRESSION" (DIGITS 1 when flagged;
 * the expression is the trigger, or the pattern's own when it has none).
 */
#include <stdio.h>

#include "clean/pii_internal.h"
#include "clean/pii_shape.h"

int main(void)
{
	printf("bounds %d %d %d\n", PII_SHAPE_LEAD, PII_SHAPE_TRAIL, PII_SHAPE_GAP);
	for (size_t i = 0; i < pii_n_patterns; i++) {
		const struct pii_pattern *p = &pii_patterns[i];
		if (p->gaz || p->cue)
			continue;
		printf("%zu\t%d\t%s\t%s\t%s\n", i, (p->flags & P_DIGITS) ? 1 : 0, p->entity, p->name,
		       p->trigger ? p->trigger : p->regex);
	}
	return ferror(stdout) ? 1 : 0;
}
