/* A plugin built for another ABI major: the loader must refuse it. */
#include <sluice/sluice.h>

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    .abi_major = 99, /* a major no sluice speaks yet */
    .abi_minor = 0,
    .struct_size = sizeof(struct sluice_plugin),
    .kind = SLUICE_PLUGIN_OUTPUT,
    .name = "abi_major",
    .description = "Test plugin with a foreign ABI major.",
    .accepts = SLUICE_ACCEPTS_ALL,
};
