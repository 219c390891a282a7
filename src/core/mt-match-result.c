/* mt-match-result.c — the whole result of a run */

#include "config.h"

#include <string.h>

#include "mt-core-private.h"
#include "mt-match-result.h"
#include "mt-time.h"

struct _MtMatchResult
{
  GObject parent_instance;

  GPtrArray *users; /* MtUserResult, by user id */
  MtMatchSummary *summary;
  GPtrArray *errors; /* char *, NULL-terminated */
  char *langfuse_api;
  char *s3_listing;
  gint64 window_from;
  gint64 window_to;
  gint64 max_gap_ms;
  guint time_filter_days;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MtMatchResult, mt_match_result, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_SUMMARY,
  PROP_N_ITEMS,
  PROP_WINDOW_FROM,
  PROP_WINDOW_TO,
  PROP_TIME_FILTER_DAYS,
  PROP_MAX_GAP_MS,
  PROP_LANGFUSE_API,
  PROP_S3_LISTING,
  PROP_ERRORS,
  PROP_COMPLETE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GType
get_item_type (GListModel *model)
{
  return MT_TYPE_USER_RESULT;
}

static guint
get_n_items (GListModel *model)
{
  return MT_MATCH_RESULT (model)->users->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  MtMatchResult *self = MT_MATCH_RESULT (model);

  if (position >= self->users->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->users, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
mt_match_result_finalize (GObject *object)
{
  MtMatchResult *self = MT_MATCH_RESULT (object);

  g_clear_pointer (&self->users, g_ptr_array_unref);
  g_clear_object (&self->summary);
  g_clear_pointer (&self->errors, g_ptr_array_unref);
  g_free (self->langfuse_api);
  g_free (self->s3_listing);

  G_OBJECT_CLASS (mt_match_result_parent_class)->finalize (object);
}

static void
mt_match_result_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MtMatchResult *self = MT_MATCH_RESULT (object);

  switch (prop_id)
    {
    case PROP_SUMMARY:
      g_value_set_object (value, self->summary);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->users->len);
      break;
    case PROP_WINDOW_FROM:
      g_value_set_int64 (value, self->window_from);
      break;
    case PROP_WINDOW_TO:
      g_value_set_int64 (value, self->window_to);
      break;
    case PROP_TIME_FILTER_DAYS:
      g_value_set_uint (value, self->time_filter_days);
      break;
    case PROP_MAX_GAP_MS:
      g_value_set_int64 (value, self->max_gap_ms);
      break;
    case PROP_LANGFUSE_API:
      g_value_set_string (value, self->langfuse_api);
      break;
    case PROP_S3_LISTING:
      g_value_set_string (value, self->s3_listing);
      break;
    case PROP_ERRORS:
      g_value_set_boxed (value, mt_match_result_get_errors (self));
      break;
    case PROP_COMPLETE:
      g_value_set_boolean (value, mt_match_result_is_complete (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_match_result_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  MtMatchResult *self = MT_MATCH_RESULT (object);

  switch (prop_id)
    {
    case PROP_LANGFUSE_API:
      mt_match_result_set_langfuse_api (self, g_value_get_string (value));
      break;
    case PROP_S3_LISTING:
      mt_match_result_set_s3_listing (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_match_result_class_init (MtMatchResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mt_match_result_finalize;
  object_class->get_property = mt_match_result_get_property;
  object_class->set_property = mt_match_result_set_property;

  properties[PROP_SUMMARY] =
    g_param_spec_object ("summary", NULL, NULL, MT_TYPE_MATCH_SUMMARY, ro);
  properties[PROP_N_ITEMS] = g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_WINDOW_FROM] =
    g_param_spec_int64 ("window-from", NULL, NULL, G_MININT64, G_MAXINT64, MT_TIME_NONE, ro);
  properties[PROP_WINDOW_TO] =
    g_param_spec_int64 ("window-to", NULL, NULL, G_MININT64, G_MAXINT64, MT_TIME_NONE, ro);
  properties[PROP_TIME_FILTER_DAYS] =
    g_param_spec_uint ("time-filter-days", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_MAX_GAP_MS] =
    g_param_spec_int64 ("max-gap-ms", NULL, NULL, -1, G_MAXINT64, -1, ro);
  properties[PROP_LANGFUSE_API] = g_param_spec_string ("langfuse-api", NULL, NULL, NULL, rw);
  properties[PROP_S3_LISTING] = g_param_spec_string ("s3-listing", NULL, NULL, NULL, rw);
  properties[PROP_ERRORS] = g_param_spec_boxed ("errors", NULL, NULL, G_TYPE_STRV, ro);
  properties[PROP_COMPLETE] = g_param_spec_boolean ("complete", NULL, NULL, TRUE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_match_result_init (MtMatchResult *self)
{
  self->errors = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  self->window_from = MT_TIME_NONE;
  self->window_to = MT_TIME_NONE;
  self->max_gap_ms = -1;
}

MtMatchResult *
mt_match_result_new_internal (GPtrArray      *users,
                              MtMatchSummary *summary,
                              gint64          window_from,
                              gint64          window_to,
                              guint           time_filter_days,
                              gint64          max_gap_ms)
{
  MtMatchResult *self = g_object_new (MT_TYPE_MATCH_RESULT, NULL);

  self->users = users;
  self->summary = summary;
  self->window_from = window_from;
  self->window_to = window_to;
  self->time_filter_days = time_filter_days;
  self->max_gap_ms = max_gap_ms < 0 ? -1 : max_gap_ms;
  return self;
}

MtMatchSummary *
mt_match_result_get_summary (MtMatchResult *self)
{
  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), NULL);
  return self->summary;
}

MtUserResult *
mt_match_result_lookup_user (MtMatchResult *self,
                             const char    *user_id)
{
  guint lo = 0, hi;

  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), NULL);
  g_return_val_if_fail (user_id != NULL, NULL);

  hi = self->users->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      MtUserResult *user = g_ptr_array_index (self->users, mid);
      int cmp = strcmp (user->user_id, user_id);

      if (cmp == 0)
        return user;
      if (cmp < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

gint64
mt_match_result_get_window_from (MtMatchResult *self)
{
  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), MT_TIME_NONE);
  return self->window_from;
}

gint64
mt_match_result_get_window_to (MtMatchResult *self)
{
  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), MT_TIME_NONE);
  return self->window_to;
}

guint
mt_match_result_get_time_filter_days (MtMatchResult *self)
{
  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), 0);
  return self->time_filter_days;
}

gint64
mt_match_result_get_max_gap_ms (MtMatchResult *self)
{
  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), -1);
  return self->max_gap_ms;
}

const char *
mt_match_result_get_langfuse_api (MtMatchResult *self)
{
  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), NULL);
  return self->langfuse_api;
}

void
mt_match_result_set_langfuse_api (MtMatchResult *self,
                                  const char    *langfuse_api)
{
  g_return_if_fail (MT_IS_MATCH_RESULT (self));
  if (mt_set_string (&self->langfuse_api, langfuse_api))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LANGFUSE_API]);
}

const char *
mt_match_result_get_s3_listing (MtMatchResult *self)
{
  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), NULL);
  return self->s3_listing;
}

void
mt_match_result_set_s3_listing (MtMatchResult *self,
                                const char    *s3_listing)
{
  g_return_if_fail (MT_IS_MATCH_RESULT (self));
  if (mt_set_string (&self->s3_listing, s3_listing))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_S3_LISTING]);
}

const char * const *
mt_match_result_get_errors (MtMatchResult *self)
{
  static const char *const none[] = { NULL };

  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), none);
  if (self->errors->pdata == NULL)
    return none;
  return (const char * const *) self->errors->pdata;
}

void
mt_match_result_add_error (MtMatchResult *self,
                           const char    *message)
{
  gboolean was_complete;

  g_return_if_fail (MT_IS_MATCH_RESULT (self));
  g_return_if_fail (message != NULL);

  was_complete = mt_match_result_is_complete (self);
  g_ptr_array_add (self->errors, g_strdup (message));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERRORS]);
  if (was_complete)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPLETE]);
}

gboolean
mt_match_result_is_complete (MtMatchResult *self)
{
  g_return_val_if_fail (MT_IS_MATCH_RESULT (self), FALSE);
  return self->errors->len == 0 &&
         mt_match_summary_get_incomplete_users (self->summary)[0] == NULL;
}
