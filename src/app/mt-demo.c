/* mt-demo.c — the demo: Langfuse and S3 on loopback, with a month of meals */

#include "config.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "mt-demo.h"
#include "mt-demo-resources.h"
#include "mt-json-writer.h"
#include "mt-loopback-langfuse.h"
#include "mt-loopback-s3.h"
#include "mt-time.h"

#define SEED 20261124
#define DAY_MS G_GINT64_CONSTANT (86400000)
#define MINUTE_MS G_GINT64_CONSTANT (60000)
#define N_PHOTOS 80
#define PHOTO_RESOURCE "/io/github/mealtrace/Mealtrace/demo/meal-%02u.jpg"
/* Meals are eaten in Vietnam in the demo: +07:00. */
#define LOCAL_OFFSET_MS (7 * 3600 * G_GINT64_CONSTANT (1000))

struct _MtDemo
{
  MtLoopbackLangfuse *langfuse;
  MtLoopbackS3 *s3;
  GRand *rand;
  gint64 now;
  guint traces;
  guint generations;
  guint photos;
};

/* What a user of the demo does. */
typedef enum {
  HABIT_PHOTOS,          /* photographs most meals it asks about */
  HABIT_NO_PHOTOS,       /* asks, never photographs */
  HABIT_PHOTOS_BEFORE,   /* photographed, then asked only later */
  HABIT_NO_TRACES,       /* photographs, never asks */
} Habit;

typedef struct {
  const char *name;
  int calories;
  int protein;
  int carbs;
  int fat;
} Dish;

static const Dish dishes[] = {
  { "steamed jasmine rice", 230, 4, 50, 1 },
  { "phở bò noodles", 420, 24, 55, 10 },
  { "grilled salmon", 280, 30, 0, 17 },
  { "fried egg", 90, 6, 1, 7 },
  { "stir-fried broccoli", 70, 4, 8, 3 },
  { "tomato salad", 45, 2, 8, 1 },
  { "lemongrass chicken thighs", 310, 32, 4, 18 },
  { "carrot slices", 35, 1, 8, 0 },
  { "green salad with sesame", 60, 2, 6, 4 },
  { "egg noodles", 330, 12, 60, 5 },
};

/* What users write beside a photo, by meal. */
static const char *notes[3][3] = {
  { "Breakfast before the gym", "Breakfast on the way to work", NULL },
  { "Lunch at the office canteen", "Quick lunch between meetings", "Lunch box I brought from home" },
  { "Dinner at home with the family", "Late dinner, smaller portion", "Street food near the market" },
};
static const char *meals[3] = { "breakfast", "lunch", "dinner" };

typedef struct {
  const char *model;
  double input_per_million;
  double output_per_million;
} Model;

static const Model models[] = {
  { "gpt-4o-2024-08-06", 2.50, 10.00 },
  { "gpt-4o-mini-2024-07-18", 0.15, 0.60 },
  { "claude-3-5-sonnet-20241022", 3.00, 15.00 },
  { "gemini-1.5-flash-002", 0.075, 0.30 },
};

static const char system_prompt[] =
  "You are Dietfit's nutrition assistant. Identify every dish in the photo, estimate its portion in grams "
  "and its calories, protein, carbohydrates and fat, and answer in JSON.";

void
mt_demo_free (MtDemo *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->langfuse);
  g_clear_object (&self->s3);
  g_clear_pointer (&self->rand, g_rand_free);
  g_free (self);
}

const char *
mt_demo_get_langfuse_url (MtDemo *self)
{
  return mt_loopback_langfuse_get_base_url (self->langfuse);
}

const char *
mt_demo_get_s3_endpoint (MtDemo *self)
{
  return mt_loopback_s3_get_endpoint (self->s3);
}

guint
mt_demo_get_n_traces (MtDemo *self)
{
  return self->traces;
}

guint
mt_demo_get_n_images (MtDemo *self)
{
  return self->photos;
}

MtConfig *
mt_demo_load_config (MtDemo                *self,
                     const MtConfigSources *sources,
                     GError               **error)
{
  return mt_config_load_demo (sources, mt_demo_get_langfuse_url (self), mt_demo_get_s3_endpoint (self), error);
}

/* A version-4 UUID from the seed, as an SDK would make a user id. */
static char *
uuid (GRand *rand)
{
  return g_strdup_printf ("%08x-%04x-4%03x-%04x-%04x%08x", g_rand_int (rand), g_rand_int (rand) & 0xffff,
                          g_rand_int (rand) & 0xfff, (g_rand_int (rand) & 0x3fff) | 0x8000,
                          g_rand_int (rand) & 0xffff, g_rand_int (rand));
}

/* A meal time @days_ago: breakfast, lunch or dinner, local time. */
static gint64
meal_time (MtDemo *self,
           guint   days_ago)
{
  static const int hours[] = { 7, 12, 19 };
  gint64 local_midnight = ((self->now + LOCAL_OFFSET_MS) / DAY_MS) * DAY_MS - LOCAL_OFFSET_MS;
  int hour = hours[g_rand_int_range (self->rand, 0, 3)];
  gint64 time = local_midnight - (gint64) days_ago * DAY_MS + hour * 3600 * G_GINT64_CONSTANT (1000) +
                g_rand_int_range (self->rand, 0, 90) * MINUTE_MS + g_rand_int_range (self->rand, 0, 60000);

  /* Today's dinner has not been eaten yet: yesterday's, then. */
  while (time >= self->now - 30 * MINUTE_MS)
    time -= DAY_MS;
  return time;
}

/* The meal on a plate, as the model describes it. */
static void
write_analysis (MtDemo  *self,
                GString *out,
                guint    n_dishes)
{
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (out, FALSE);
  int calories = 0, protein = 0, carbs = 0, fat = 0;

  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "dishes");
  mt_json_writer_begin_array (writer);
  for (guint i = 0; i < n_dishes; i++)
    {
      const Dish *dish = &dishes[g_rand_int_range (self->rand, 0, G_N_ELEMENTS (dishes))];
      double portion = g_rand_double_range (self->rand, 0.7, 1.4);

      mt_json_writer_begin_object (writer);
      mt_json_writer_member (writer, "name");
      mt_json_writer_string (writer, dish->name);
      mt_json_writer_member (writer, "portion_g");
      mt_json_writer_int (writer, (gint64) (150 * portion));
      mt_json_writer_member (writer, "calories");
      mt_json_writer_int (writer, (gint64) (dish->calories * portion));
      mt_json_writer_end_object (writer);
      calories += (int) (dish->calories * portion);
      protein += (int) (dish->protein * portion);
      carbs += (int) (dish->carbs * portion);
      fat += (int) (dish->fat * portion);
    }
  mt_json_writer_end_array (writer);
  mt_json_writer_member (writer, "total_calories");
  mt_json_writer_int (writer, calories);
  mt_json_writer_member (writer, "protein_g");
  mt_json_writer_int (writer, protein);
  mt_json_writer_member (writer, "carbs_g");
  mt_json_writer_int (writer, carbs);
  mt_json_writer_member (writer, "fat_g");
  mt_json_writer_int (writer, fat);
  mt_json_writer_member (writer, "confidence");
  mt_json_writer_double (writer, round (g_rand_double_range (self->rand, 0.62, 0.97) * 100) / 100);
  mt_json_writer_end_object (writer);
}

static char *
root_input (const char *photo_key,
            const char *note,
            const char *meal)
{
  GString *out = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (out, FALSE);

  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "image_key");
  mt_json_writer_string (writer, photo_key);
  mt_json_writer_member (writer, "meal_type");
  mt_json_writer_string (writer, meal);
  mt_json_writer_member (writer, "user_note");
  mt_json_writer_string (writer, note);
  mt_json_writer_end_object (writer);
  return g_string_free (out, FALSE);
}

static char *
generation_input (const char *photo_key,
                  gboolean    with_system)
{
  GString *out = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (out, FALSE);
  g_autofree char *url = g_strdup_printf ("s3://" MT_DEMO_BUCKET "/%s", photo_key != NULL ? photo_key : "");

  mt_json_writer_begin_array (writer);
  if (with_system)
    {
      mt_json_writer_begin_object (writer);
      mt_json_writer_member (writer, "role");
      mt_json_writer_string (writer, "system");
      mt_json_writer_member (writer, "content");
      mt_json_writer_string (writer, system_prompt);
      mt_json_writer_end_object (writer);
    }
  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "role");
  mt_json_writer_string (writer, "user");
  mt_json_writer_member (writer, "content");
  mt_json_writer_begin_array (writer);
  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "type");
  mt_json_writer_string (writer, "text");
  mt_json_writer_member (writer, "text");
  mt_json_writer_string (writer, photo_key != NULL ? "What is on this plate? Estimate the nutrition."
                                                   : "Was my lunch today balanced?");
  mt_json_writer_end_object (writer);
  if (photo_key != NULL)
    {
      mt_json_writer_begin_object (writer);
      mt_json_writer_member (writer, "type");
      mt_json_writer_string (writer, "image_url");
      mt_json_writer_member (writer, "image_url");
      mt_json_writer_begin_object (writer);
      mt_json_writer_member (writer, "url");
      mt_json_writer_string (writer, url);
      mt_json_writer_end_object (writer);
      mt_json_writer_end_object (writer);
    }
  mt_json_writer_end_array (writer);
  mt_json_writer_end_object (writer);
  mt_json_writer_end_array (writer);
  return g_string_free (out, FALSE);
}

/* Which meal a time is: breakfast, lunch or dinner, local time. */
static guint
meal_of (gint64 time)
{
  gint64 hour = ((time + LOCAL_OFFSET_MS) % DAY_MS) / (3600 * G_GINT64_CONSTANT (1000));

  return hour < 10 ? 0 : hour < 16 ? 1 : 2;
}

/* A trace and its generations (one, now and then a follow-up). */
static void
add_trace (MtDemo      *self,
           const char  *user_id,
           gint64       time,
           const char  *photo_key,
           const Model *model)
{
  guint meal = meal_of (time);
  g_autofree char *id = g_strdup_printf ("%08x-%04x-4%03x-a%03x-%012x", g_rand_int (self->rand),
                                         g_rand_int (self->rand) & 0xffff, g_rand_int (self->rand) & 0xfff,
                                         g_rand_int (self->rand) & 0xfff, self->traces);
  const char *note = notes[meal][g_rand_int_range (self->rand, 0, 3)];
  g_autofree char *input = photo_key != NULL ? root_input (photo_key, note, meals[meal])
                                             : g_strdup_printf ("Was my %s today balanced?", meals[meal]);
  g_autoptr(GString) output = g_string_new (NULL);
  g_autofree char *session = user_id != NULL ? g_strdup_printf ("session-%.8s-%" G_GINT64_FORMAT, user_id,
                                                                (time + LOCAL_OFFSET_MS) / DAY_MS) : NULL;
  guint n_generations = g_rand_int_range (self->rand, 0, 5) == 0 ? 2 : 1;

  write_analysis (self, output, (guint) g_rand_int_range (self->rand, 1, 4));
  mt_loopback_langfuse_add_trace (self->langfuse, id, time, photo_key != NULL ? "meal-analysis" : "nutrition-question",
                                  user_id, session, input, output->str);
  for (guint n = 0; n < n_generations; n++)
    {
      g_autofree char *generation_id = g_strdup_printf ("%s-gen-%u", id, n);
      g_autofree char *root_id = g_strconcat (id, "-root", NULL);
      /* Most calls use the managed prompt; some still send their own. */
      gboolean managed = g_rand_int_range (self->rand, 0, 5) != 0;
      g_autofree char *generation_input_text = generation_input (n == 0 ? photo_key : NULL, !managed);
      double tokens_in = g_rand_int_range (self->rand, 900, 1600), tokens_out = g_rand_int_range (self->rand, 180, 420);
      double cost = (tokens_in * model->input_per_million + tokens_out * model->output_per_million) / 1e6;

      mt_loopback_langfuse_add_observation (self->langfuse, id, generation_id, "GENERATION",
                                            time + 300 + n * 4000 + g_rand_int_range (self->rand, 0, 200), root_id,
                                            model->model, managed ? "meal-analyzer" : NULL, managed ? 3 : -1,
                                            generation_input_text, round (cost * 1e8) / 1e8);
      self->generations++;
    }
  self->traces++;
}

static void
add_photo (MtDemo     *self,
           const char *key,
           gint64      time)
{
  g_autofree char *resource = g_strdup_printf (PHOTO_RESOURCE, self->photos % N_PHOTOS + 1);
  /* The photos are built into the program (see data/demo). */
  g_autoptr(GBytes) bytes = g_resource_lookup_data (mt_demo_get_resource (), resource,
                                                    G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  g_assert (bytes != NULL);
  mt_loopback_s3_put (self->s3, MT_DEMO_BUCKET, key, time, bytes, 0);
  self->photos++;
}

static char *
photo_key (const char *user_id,
           gint64      time)
{
  g_autoptr(GDateTime) moment = g_date_time_new_from_unix_utc (time / 1000);
  g_autofree char *stamp = g_date_time_format (moment, "%Y%m%d_%H%M%S");

  return g_strdup_printf ("meal-images/%s/%s.jpg", user_id, stamp);
}

/* One user's month. */
static void
add_user (MtDemo *self,
          Habit   habit,
          guint   n_traces,
          guint   n_photos)
{
  g_autofree char *user_id = uuid (self->rand);
  const Model *model = &models[g_rand_int_range (self->rand, 0, G_N_ELEMENTS (models))];
  guint photos_left = n_photos;

  for (guint i = 0; i < MAX (n_traces, habit == HABIT_NO_TRACES ? n_photos : 0); i++)
    {
      /* Spread over the month, with the latest days fuller, so that every
       * filter from one day to thirty shows something. */
      guint days_ago = i == 0 ? 0 : i == 1 ? (guint) g_rand_int_range (self->rand, 1, 7)
                                           : (guint) (pow (g_rand_double (self->rand), 1.6) * 29);
      gint64 time = meal_time (self, days_ago);
      /* The photo is uploaded a few minutes after the question. */
      gint64 photo_time = time + g_rand_int_range (self->rand, 2, 25) * MINUTE_MS;
      g_autofree char *key = photo_key (user_id, photo_time);
      gboolean photographed = photos_left > 0 && (n_traces - i <= photos_left || g_rand_int_range (self->rand, 0, 3) > 0);

      switch (habit)
        {
        case HABIT_PHOTOS:
          if (photographed)
            {
              add_photo (self, key, photo_time);
              photos_left--;
            }
          add_trace (self, user_id, time, photographed ? key : NULL, model);
          break;
        case HABIT_NO_PHOTOS:
          add_trace (self, user_id, time, NULL, model);
          break;
        case HABIT_PHOTOS_BEFORE:
          /* Questions in the last days only; the photos a week before,
           * with no question before them to pair with. */
          if (photographed)
            {
              gint64 early_time = meal_time (self, 6 + i);
              g_autofree char *early = photo_key (user_id, early_time);

              add_photo (self, early, early_time);
              photos_left--;
            }
          add_trace (self, user_id, meal_time (self, i % 3), NULL, model);
          break;
        case HABIT_NO_TRACES:
        default:
          if (photos_left > 0)
            {
              add_photo (self, key, photo_time);
              photos_left--;
            }
          break;
        }
    }
}

MtDemo *
mt_demo_new (gint64 now)
{
  MtDemo *self = g_new0 (MtDemo, 1);

  self->now = now;
  self->rand = g_rand_new_with_seed (SEED);
  self->langfuse = mt_loopback_langfuse_new (MT_DEMO_LANGFUSE_PUBLIC_KEY, MT_DEMO_LANGFUSE_SECRET_KEY);
  self->s3 = mt_loopback_s3_new ("us-east-1", MT_DEMO_AWS_ACCESS_KEY_ID, MT_DEMO_AWS_SECRET_ACCESS_KEY, NULL);
  mt_loopback_s3_add_bucket (self->s3, MT_DEMO_BUCKET);
  /* Answers take a moment, as over a network: progress can be seen. */
  mt_loopback_langfuse_set_latency_ms (self->langfuse, 15);
  mt_loopback_s3_set_latency_ms (self->s3, 15);

  /* Twenty users who photograph most of what they ask about (70 photos),
   * two who never photograph, one whose photos came before any question,
   * one who photographs and never asks; and questions without a user. */
  for (guint i = 0; i < 20; i++)
    add_user (self, HABIT_PHOTOS, 10 + i % 8, i < 10 ? 4 : 3);
  add_user (self, HABIT_NO_PHOTOS, 12, 0);
  add_user (self, HABIT_NO_PHOTOS, 8, 0);
  add_user (self, HABIT_PHOTOS_BEFORE, 6, 6);
  add_user (self, HABIT_NO_TRACES, 0, 4);
  /* A third of them in the last day, the rest over the month. */
  for (guint i = 0; i < 12; i++)
    add_trace (self, NULL, meal_time (self, i % 3 == 0 ? 0 : (guint) g_rand_int_range (self->rand, 1, 30)), NULL,
               &models[1]);

  g_debug ("demo: %u traces, %u generations, %u photos", self->traces, self->generations, self->photos);
  return self;
}
