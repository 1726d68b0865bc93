/* The sluice plugin SDK: include this one header. */
#ifndef SLUICE_H
#define SLUICE_H

#include <sluice/version.h>
#include "common.h"
#include "alloc.h"
#include "buf.h"
#include "fs.h"
#include "log.h"
#include "option.h"
#include "event.h"
#include "format.h"
#include "http.h"
#include "json.h"
#include "net.h"
#include "timefmt.h"
#include "plugin.h"

#endif
