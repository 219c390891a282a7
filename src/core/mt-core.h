/* mt-core.h — everything src/core offers the layers above it */
#pragma once

#include "mt-core-enums.h"
#include "mt-exporter.h"
#include "mt-image.h"
#include "mt-json-writer.h"
#include "mt-match-result.h"
#include "mt-match-summary.h"
#include "mt-matcher.h"
#include "mt-pair.h"
#include "mt-text.h"
#include "mt-time.h"
#include "mt-trace.h"
#include "mt-user-result.h"
