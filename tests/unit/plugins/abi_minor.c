/* A plugin built for a newer ABI minor than this core: refused too, since it
 * may rely on descriptor members this core does not know. */
#include <sluice/sluice.h>

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    .abi_major = SLUICE_ABI_MAJOR,
    .abi_minor = SLUICE_ABI_MINOR + 99,
    .struct_size = sizeof(struct sluice_plugin),
    .kind = SLUICE_PLUGIN_OUTPUT,
    .name = "abi_minor",
    .description = "Test plugin with a newer ABI minor.",
    .accepts = SLUICE_ACCEPTS_ALL,
};
