/* registry.c - builds dev_types[] from devices.def; see harness/device.h. */
#include <string.h>

#include "device.h"

#define VMS_DEVICE(type) extern const DevType type;
#include "devices.def"
#undef VMS_DEVICE

const DevType *const dev_types[] = {
#define VMS_DEVICE(type) &type,
#include "devices.def"
#undef VMS_DEVICE
    NULL,
};

const size_t dev_n_types = sizeof(dev_types) / sizeof(dev_types[0]) - 1;

/*
 * Test-only device variants (the planted bugs of tests/planted/) are found
 * by name too, but only in binaries that link them. This is a weak
 * declaration, not a definition: in other binaries its address is NULL.
 * (A weak definition such as "= { NULL }" would not do: its known size of
 * one entry lets the compiler assume no later entry is ever read.)
 */
extern const DevType *dev_test_types[] __attribute__((weak));
extern DevTestDesc dev_test_descs[] __attribute__((weak));

const DevTestDesc *dev_test_desc_find(const char *name)
{
    for (size_t i = 0; dev_test_descs && dev_test_descs[i].name; i++)
        if (strcmp(dev_test_descs[i].name, name) == 0)
            return &dev_test_descs[i];
    return NULL;
}

const DevType *dev_type_find(const char *name)
{
    for (size_t i = 0; i < dev_n_types; i++)
        if (strcmp(dev_types[i]->name, name) == 0)
            return dev_types[i];
    for (size_t i = 0; dev_test_types && dev_test_types[i]; i++)
        if (strcmp(dev_test_types[i]->name, name) == 0)
            return dev_test_types[i];
    return NULL;
}
