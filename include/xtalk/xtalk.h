/* xtalk/xtalk.h -- umbrella header for libxtalk: every public header. */
#ifndef XTALK_XTALK_H
#define XTALK_XTALK_H

#include "common.h" /* and the generated xtalk/version.h */
#include "stanza.h"
#include "jid.h"
#include "conn.h"
#include "client.h"
#include "im.h"
#include "disco.h"
#include "mam.h"
#include "pep.h"
#include "bookmarks.h"
#include "muc.h"
#include "selfping.h"
#if XT_HAVE_STORE
#include "store.h"
#endif

#endif
