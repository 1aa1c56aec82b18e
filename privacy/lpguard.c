/* lpguard: GLPK error and terminal hooks that jump back to the caller's
 * setjmp with GLPK's message (see lpguard.h for the protocol and why). */
#include "privacy/lpguard.h"

#include <glpk.h>
#include <string.h>
#include <sysexits.h>

static int on_term(void *info, const char *s)
{
	lpguard *g = info;
	size_t n = strlen(s);
	if (g->len + 1 < sizeof g->msg) {
		size_t room = sizeof g->msg - 1 - g->len;
		if (n > room)
			n = room;
		memcpy(g->msg + g->len, s, n);
		g->len += n;
		g->msg[g->len] = '\0';
	}
	return 1; /* never printed */
}

static void on_error(void *info)
{
	lpguard *g = info;
	/* the environment is in an undefined state: free all of it (this
	 * also removes both hooks), then leave GLPK for good */
	glp_free_env();
	longjmp(g->jb, 1);
}

void lpg_arm(lpguard *g)
{
	g->len = 0;
	g->msg[0] = '\0';
	glp_term_hook(on_term, g);
	glp_error_hook(on_error, g);
}

void lpg_disarm(void)
{
	glp_error_hook(NULL, NULL);
	glp_term_hook(NULL, NULL);
}

int lpg_fail(const lpguard *g, const char *who, diag *d)
{
	size_t n = strcspn(g->msg, "\n");
	int oom = strstr(g->msg, "memory") != NULL;
	return diag_fail(d, oom ? EX_OSERR : EX_SOFTWARE, "%s: the LP solver failed: %.*s", who,
	                 (int)n, n ? g->msg : "(no message)");
}
