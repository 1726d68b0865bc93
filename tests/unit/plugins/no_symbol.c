/* A shared object that is not a sluice plugin at all. */
__attribute__((visibility("default"))) int not_a_plugin = 1;
