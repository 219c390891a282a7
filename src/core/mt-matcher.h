/* mt-matcher.h — pairs each image with the trace that produced it (SPEC §4)
 *
 * Fill a matcher with traces and images, then run it once: the run consumes
 * what was added and returns the whole result with its summary (SPEC §5).
 * The matcher never touches the network.
 */
#pragma once

#include <gio/gio.h>

#include "mt-image.h"
#include "mt-match-result.h"
#include "mt-trace.h"

G_BEGIN_DECLS

#define MT_TYPE_MATCHER (mt_matcher_get_type ())

G_DECLARE_FINAL_TYPE (MtMatcher, mt_matcher, MT, MATCHER, GObject)

MtMatcher     *mt_matcher_new                   (void);

/* Only traces and images in [from, to) take part; MT_TIME_NONE leaves an end
 * open. @time_filter_days (0 for a custom range) is recorded in the result. */
void           mt_matcher_set_window            (MtMatcher     *self,
                                                 gint64         from,
                                                 gint64         to,
                                                 guint          time_filter_days);

/* The largest allowed image − trace gap in milliseconds; negative for none. */
void           mt_matcher_set_max_gap_ms        (MtMatcher     *self,
                                                 gint64         max_gap_ms);
gint64         mt_matcher_get_max_gap_ms        (MtMatcher     *self);

/* How many threads a run may use, at most 8; 0 (the default) means one
 * per processor. Large runs split their users among them. */
void           mt_matcher_set_threads           (MtMatcher     *self,
                                                 guint          threads);
guint          mt_matcher_get_threads           (MtMatcher     *self);

/* Adds traces and images, grouped by their own user id. A trace without a
 * user id is only counted; an image of a user without traces is ignored. */
void           mt_matcher_add_traces            (MtMatcher     *self,
                                                 MtTrace      **traces,
                                                 guint          n_traces);
void           mt_matcher_add_images            (MtMatcher     *self,
                                                 MtImage      **images,
                                                 guint          n_images);

/* Gives the matcher one user's id and traces and images (arrays that own
 * their elements; either may be %NULL), whatever user id the objects carry.
 * The arrays are sorted in place and kept by the result: nothing is copied,
 * which is what a month of data needs. An empty id means no user. */
void           mt_matcher_take_user             (MtMatcher     *self,
                                                 char          *user_id,
                                                 GPtrArray     *traces,
                                                 GPtrArray     *images);

/* Adds one user's traces and images at once, whatever user id they carry. */
void           mt_matcher_add_user              (MtMatcher     *self,
                                                 const char    *user_id,
                                                 MtTrace      **traces,
                                                 guint          n_traces,
                                                 MtImage      **images,
                                                 guint          n_images);

/* Counts traces in the window that have no user, when only their number is
 * known. */
void           mt_matcher_add_traces_without_user (MtMatcher   *self,
                                                   guint        n_traces);

/* The user's data could not all be fetched: the user is reported as
 * incomplete and gets no pairs, since the missing data could change them. */
void           mt_matcher_mark_incomplete       (MtMatcher     *self,
                                                 const char    *user_id);

/* Matches every user and empties the matcher. */
MtMatchResult *mt_matcher_run                   (MtMatcher     *self);

/* The same in a worker thread; do not touch @self until it finishes. */
void           mt_matcher_run_async             (MtMatcher          *self,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
MtMatchResult *mt_matcher_run_finish            (MtMatcher     *self,
                                                 GAsyncResult  *result,
                                                 GError       **error);

G_END_DECLS
