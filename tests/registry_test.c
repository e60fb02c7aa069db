/* SPDX-License-Identifier: MIT */
/* The flag registry: sorted, unique, well-formed names, and exactly the backends the build's
 * test list names (argv), so a new backend cannot miss the conformance suite. */
#include "test.h"

#include "flags/flag.h"

#include <ctype.h>

static bool well_formed(const char *name)
{
    if (!islower((unsigned char)name[0]))
        return false;
    for (const char *p = name; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return false;
    return name[strlen(name) - 1] != '-';
}

int main(int argc, char **argv)
{
    T_TRUE(flag_backend_count > 0);
    for (size_t i = 0; i < flag_backend_count; i++) {
        const struct flag_ops *ops = flag_backends[i];
        if (!well_formed(ops->name))
            T_FAIL("backend name '%s' is not lowercase-hyphenated", ops->name);
        if (i > 0 && strcmp(flag_backends[i - 1]->name, ops->name) >= 0)
            T_FAIL("'%s' comes after '%s': the table must be sorted and unique", ops->name,
                   flag_backends[i - 1]->name);
        T_TRUE(ops->description && ops->description[0]);
        T_TRUE(ops->probe && ops->open && ops->close);
        if (flag_backend_find(ops->name) != ops)
            T_FAIL("flag_backend_find('%s') does not return its entry", ops->name);
        char why[256];
        int rc = flag_probe(ops, why, sizeof why);
        if (rc > 0)
            T_FAIL("%s: probe returned %d; expected 0 or -errno", ops->name, rc);
        if (rc < 0 && !why[0])
            T_FAIL("%s: probe failed without a reason", ops->name);
    }
    T_TRUE(flag_backend_find("no-such-backend") == NULL);
    T_TRUE(flag_backend_find("") == NULL);
    T_TRUE(flag_backend_find("ATOMIC") == NULL);

    /* argv[1..] is the list the conformance suite runs over. */
    if ((size_t)(argc - 1) != flag_backend_count)
        T_FAIL("the registry has %zu backends, the test list %d", flag_backend_count, argc - 1);
    for (int i = 1; i < argc; i++)
        if (!flag_backend_find(argv[i]))
            T_FAIL("test list names '%s', which the registry lacks", argv[i]);
    return T_RESULT();
}
