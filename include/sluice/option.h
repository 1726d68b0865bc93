/* Option schemas: how a plugin declares its configuration as data.
 *
 * A plugin lists its options in a table terminated by an entry whose name is
 * NULL. Before the plugin's init runs, the core validates the instance's YAML
 * against the table, applies defaults and writes typed values into a struct of
 * `config_size` bytes at each option's `offset`. The same table produces
 * `sluice plugins` and docs/configuration.md.
 *
 * C type of the field at `offset`, by option type:
 *   SLUICE_OPT_STR       char *          (NULL when unset and no default)
 *   SLUICE_OPT_INT       int64_t
 *   SLUICE_OPT_DOUBLE    double
 *   SLUICE_OPT_BOOL      int             (0 or 1)
 *   SLUICE_OPT_DURATION  int64_t         nanoseconds: 500ms, 1s, 5m, 1h, 1d
 *   SLUICE_OPT_SIZE      int64_t         bytes: 512KiB, 2MiB, 1GiB, 1000KB
 *   SLUICE_OPT_ENUM      int             index into `values`
 *   SLUICE_OPT_STR_LIST  sluice_strlist  a scalar is taken as a list of one
 *   SLUICE_OPT_MAP       sluice_bytes    any map, as one MessagePack map
 *   SLUICE_OPT_SECTION   (none)          a nested map validated by `sub`,
 *                                        whose offsets are in the same struct
 *   SLUICE_OPT_LIST      sluice_list     a list of maps, each
 *                                        validated by `sub` into its own
 *                                        struct of `item_size` bytes (use
 *                                        SLUICE_OPT_LIST_OF)
 *
 * Everything the core stores stays owned by the core and valid until the
 * plugin's exit callback has returned.
 */
#ifndef SLUICE_OPTION_H
#define SLUICE_OPTION_H

#include "common.h"

typedef enum sluice_opt_type {
    SLUICE_OPT_STR = 1,
    SLUICE_OPT_INT,
    SLUICE_OPT_DOUBLE,
    SLUICE_OPT_BOOL,
    SLUICE_OPT_DURATION,
    SLUICE_OPT_SIZE,
    SLUICE_OPT_ENUM,
    SLUICE_OPT_STR_LIST,
    SLUICE_OPT_MAP,
    SLUICE_OPT_SECTION,
    SLUICE_OPT_LIST,
} sluice_opt_type;

/* The value of a SLUICE_OPT_LIST: `n` structs of the list's item type. */
typedef struct sluice_list {
    size_t n;
    void *items;
} sluice_list;

/* Option flags. */
#define SLUICE_OPT_REQUIRED 0x1u
/* Numeric options: enforce min <= value <= max. */
#define SLUICE_OPT_RANGE 0x2u
/* Sections: the scalar `off` (or false) is accepted and stores 0 in the int
 * at `offset`; a map stores 1 there. */
#define SLUICE_OPT_OFF 0x4u
/* Strings: the value may name event fields as %{field}; an
 * unset ${field} there gets that hint rather than the environment's. */
#define SLUICE_OPT_FIELDS 0x8u

typedef struct sluice_option {
    const char *name;
    sluice_opt_type type;
    /* Default, written as in the YAML config ("1s", "[a, b]", "{k: v}"), or
     * NULL for none. */
    const char *def;
    unsigned flags;
    size_t offset;
    const char *help;
    int64_t min;                       /* with SLUICE_OPT_RANGE */
    union {
        int64_t max;                   /* with SLUICE_OPT_RANGE */
        int64_t item_size;             /* SLUICE_OPT_LIST: bytes of one item */
    };
    const char *const *values;         /* SLUICE_OPT_ENUM, NULL-terminated */
    const struct sluice_option *sub;   /* SLUICE_OPT_SECTION */
    /* Optional: judge a value the config gave, once it is stored. `value`
     * is the address of what was stored (a char ** for a string, and for
     * each item of a string list; an int64_t * for a number; a
     * sluice_bytes * for a map). Return 0, or -1 with what is wrong in
     * `err`: the core reports it at the value's file:line:col and refuses
     * the config, so init need not judge it again. Not called for
     * defaults. */
    int (*check)(const void *value, char *err, size_t errlen);
} sluice_option;

#define SLUICE_OPTIONS_END {0}

/* The type and item size of a SLUICE_OPT_LIST option of `item_type`s. */
#define SLUICE_OPT_LIST_OF(item_type) .type = SLUICE_OPT_LIST, .item_size = sizeof(item_type)

/* An enum option's values and the constants naming them, from one list:
 *     #define COMPRESSIONS(X) X(COMPRESS_NONE, "none") X(COMPRESS_GZIP, "gzip")
 *     SLUICE_OPT_ENUM_VALUES(compressions, COMPRESSIONS);
 * defines enum { COMPRESS_NONE, COMPRESS_GZIP } and the array
 * compressions[] = {"none", "gzip", NULL} for the option's `values`, so
 * that code compares with COMPRESS_GZIP rather than 1. */
/* SLUICE_OPT_MAP options of strings (labels to add, fields to set): a
 * check that every value is a string, and the pairs as a NULL-terminated
 * array name, value, name, value, ..., NULL (free with
 * sluice_string_map_free). */
SLUICE_API int sluice_check_string_map(const void *value, char *err, size_t errlen);
SLUICE_API char **sluice_string_map_pairs(const sluice_bytes *map);
SLUICE_API void sluice_string_map_free(char **pairs);

#define SLUICE_ENUM_CONSTANT_(c, s) c,
#define SLUICE_ENUM_STRING_(c, s) s,
#define SLUICE_OPT_ENUM_VALUES(array, LIST)                                                         \
    enum { LIST(SLUICE_ENUM_CONSTANT_) };                                                          \
    static const char *const array[] = {LIST(SLUICE_ENUM_STRING_) NULL}

#endif
