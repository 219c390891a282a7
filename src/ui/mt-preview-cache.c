/* mt-preview-cache.c — meal photos from S3, decoded and scaled for display */

#include "config.h"

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n.h>

#include "mt-preview-cache.h"

/* The most memory a decode may take: MT_PREVIEW_CACHE_MAX_PIXELS at 4
 * bytes a pixel. */
#define MAX_DECODE_BYTES ((guint64) MT_PREVIEW_CACHE_MAX_PIXELS * 4)
/* The loader is fed this much at a time, so that a decode can stop early. */
#define CHUNK_SIZE (64 * 1024)

G_DEFINE_QUARK (mt-preview-error-quark, mt_preview_error)

/* A cached texture. */
typedef struct {
  char *id;
  GdkTexture *texture;
  gsize bytes;
  GList link;  /* in the cache's LRU queue; data is the entry */
} Entry;

/* One fetch and decode of (key, size), shared by every request for it.
 * Reference counted (g_rc_box): held by the cache's table while requests
 * wait for it, and by the fetch or decode under way. */
typedef struct {
  MtPreviewCache *cache;     /* %NULL once no request waits for the load any more */
  char *id;
  char *key;
  int size;
  GCancellable *cancellable; /* the fetch's and the decode's own */
  GPtrArray *waiters;        /* of Waiter */
} Load;

/* One request waiting for a load. */
typedef struct {
  GTask *task;
  GSource *cancelled_source; /* fires in the task's context when the caller cancels */
  Load *load;
} Waiter;

/* What a decode thread works on: its own copies, nothing the main thread touches. */
typedef struct {
  GBytes *bytes;
  char *key;
  int size;
} DecodeJob;

struct _MtPreviewCache
{
  GObject parent_instance;

  gsize max_bytes;
  gsize bytes;
  MtS3Client *client;
  GHashTable *entries; /* id → Entry */
  GQueue lru;          /* of Entry, the most recently used first */
  GHashTable *loads;   /* id → Load (a reference) */
};

G_DEFINE_FINAL_TYPE (MtPreviewCache, mt_preview_cache, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_BYTES,
  PROP_CLIENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The cache's key of (key, size): the size first, so that no key can fake
 * another's. */
static char *
make_id (const char *key,
         int         size)
{
  return g_strdup_printf ("%d:%s", size, key);
}

/* Entries */

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_free (entry->id);
  g_clear_object (&entry->texture);
  g_free (entry);
}

static void
touch (MtPreviewCache *self,
       Entry          *entry)
{
  g_queue_unlink (&self->lru, &entry->link);
  g_queue_push_head_link (&self->lru, &entry->link);
}

static void
remove_entry (MtPreviewCache *self,
              Entry          *entry)
{
  g_queue_unlink (&self->lru, &entry->link);
  self->bytes -= entry->bytes;
  g_hash_table_remove (self->entries, entry->id);
}

static void
insert_entry (MtPreviewCache *self,
              const char     *id,
              GdkTexture     *texture)
{
  Entry *entry;
  gsize bytes = (gsize) gdk_texture_get_width (texture) * (gsize) gdk_texture_get_height (texture) * 4;

  entry = g_hash_table_lookup (self->entries, id);
  if (entry != NULL)
    remove_entry (self, entry);
  if (bytes > self->max_bytes)
    return;

  entry = g_new0 (Entry, 1);
  entry->id = g_strdup (id);
  entry->texture = g_object_ref (texture);
  entry->bytes = bytes;
  entry->link.data = entry;
  g_hash_table_insert (self->entries, entry->id, entry);
  g_queue_push_head_link (&self->lru, &entry->link);
  self->bytes += bytes;

  while (self->bytes > self->max_bytes)
    remove_entry (self, g_queue_peek_tail (&self->lru));
}

static void
clear_entries (MtPreviewCache *self)
{
  g_queue_init (&self->lru);
  g_hash_table_remove_all (self->entries);
  self->bytes = 0;
}

/* Loads */

static void
load_clear (gpointer data)
{
  Load *load = data;

  g_assert (load->cache == NULL);
  g_assert (load->waiters->len == 0);
  g_free (load->id);
  g_free (load->key);
  g_clear_object (&load->cancellable);
  g_ptr_array_unref (load->waiters);
}

static Load *
load_ref (Load *load)
{
  return g_rc_box_acquire (load);
}

static void
load_unref (gpointer data)
{
  g_rc_box_release_full (data, load_clear);
}

static void
waiter_free (Waiter *waiter)
{
  if (waiter->cancelled_source != NULL)
    {
      g_source_destroy (waiter->cancelled_source);
      g_source_unref (waiter->cancelled_source);
    }
  g_clear_object (&waiter->task);
  g_free (waiter);
}

/* Takes the load out of the cache: whatever it yields from now on is dropped. */
static void
load_detach (Load *load)
{
  MtPreviewCache *self = load->cache;

  if (self == NULL)
    return;
  load->cache = NULL;
  g_cancellable_cancel (load->cancellable);
  /* The table's reference goes last: the caller holds another. */
  g_hash_table_remove (self->loads, load->id);
}

/* Answers every request waiting for @load, with @texture or else @error. */
static void
load_return (Load         *load,
             GdkTexture   *texture,
             const GError *error)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&load->waiters);

  /* A caller's callback may start new requests: they find a new array. */
  load->waiters = g_ptr_array_new ();
  for (guint i = 0; i < waiters->len; i++)
    {
      Waiter *waiter = g_ptr_array_index (waiters, i);
      g_autoptr(GTask) task = g_steal_pointer (&waiter->task);

      waiter_free (waiter);
      if (texture != NULL)
        g_task_return_pointer (task, g_object_ref (texture), g_object_unref);
      else
        g_task_return_error (task, g_error_copy (error));
    }
}

/* Called in the main context with the load's outcome. */
static void
load_complete (Load       *load,
               GdkTexture *texture,
               GError     *error)
{
  g_autoptr(GError) owned_error = error;

  if (load->cache == NULL)
    return;

  if (texture != NULL)
    insert_entry (load->cache, load->id, texture);
  load_detach (load);
  load_return (load, texture, owned_error);
}

static gboolean
on_waiter_cancelled (GCancellable *cancellable,
                     gpointer      data)
{
  Waiter *waiter = data;
  Load *load = waiter->load;
  g_autoptr(GTask) task = g_steal_pointer (&waiter->task);

  g_ptr_array_remove_fast (load->waiters, waiter);
  waiter_free (waiter);

  /* The fetch goes on while someone else still waits for it. */
  if (load->waiters->len == 0)
    {
      load_ref (load);
      load_detach (load);
      load_unref (load);
    }

  g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

/* Fails every load in flight: the photos they were for are gone. */
static void
cancel_loads (MtPreviewCache *self)
{
  g_autoptr(GPtrArray) loads = g_ptr_array_new_with_free_func (load_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->loads);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (loads, load_ref (value));

  for (guint i = 0; i < loads->len; i++)
    {
      Load *load = g_ptr_array_index (loads, i);
      g_autoptr(GError) error = NULL;

      error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("The photo “%s” was not loaded: the photos it belonged to were replaced."),
                           load->key);
      load_detach (load);
      load_return (load, NULL, error);
    }
}

/* Decoding, in a worker thread */

/* The formats a meal photo may be in, each decoded by its own loader. */
typedef enum {
  FORMAT_NONE,
  FORMAT_JPEG,
  FORMAT_PNG,
  FORMAT_GIF,
  FORMAT_WEBP,
  FORMAT_HEIF, /* recognised, to say so, but not decoded */
} Format;

static const struct {
  const char *name;   /* for messages */
  const char *loader; /* gdk-pixbuf's name of its loader */
} formats[] = {
  [FORMAT_JPEG] = { "JPEG", "jpeg" },
  [FORMAT_PNG] = { "PNG", "png" },
  [FORMAT_GIF] = { "GIF", "gif" },
  [FORMAT_WEBP] = { "WebP", "webp" },
  [FORMAT_HEIF] = { "HEIF", NULL },
};

/* What a photo's own structure says before any loader reads it. */
typedef struct {
  Format format;
  gboolean truncated;
  /* The largest width and height any part of the image declares (a GIF's
   * screen and frames, a WebP's canvas and bitstreams): a loader needs no
   * more. 0: not declared. */
  guint64 width;
  guint64 height;
  /* What a decoder holds besides the pixels, in bytes: a progressive
   * JPEG's coefficients, all of them, whatever the output's scale. */
  guint64 buffer_bytes;
} Sniff;

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint32
read_le16 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8);
}

static guint32
read_le24 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16);
}

static guint32
read_le32 (const guint8 *p)
{
  return read_le24 (p) | ((guint32) p[3] << 24);
}

static void
declare (Sniff   *sniff,
         guint64  width,
         guint64  height)
{
  sniff->width = MAX (sniff->width, width);
  sniff->height = MAX (sniff->height, height);
}

static gboolean
is_jpeg_sof (guint8 marker)
{
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

static gboolean
is_jpeg_progressive (guint8 marker)
{
  return marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE;
}

/* The bytes of every component's DCT coefficients (64 of 2 bytes an 8 × 8
 * block): for a full-resolution colour image, 6 bytes a pixel. @frame is
 * the frame header's body. */
static guint64
jpeg_coefficient_bytes (const guint8 *frame,
                        gsize         length,
                        guint64       width,
                        guint64       height)
{
  guint components = length > 5 ? frame[5] : 0;
  guint max_h = 1;
  guint max_v = 1;
  guint64 bytes = 0;

  if (length < 6 + 3 * (gsize) components)
    return 0;
  for (guint i = 0; i < components; i++)
    {
      max_h = MAX (max_h, frame[7 + 3 * i] >> 4);
      max_v = MAX (max_v, frame[7 + 3 * i] & 0x0F);
    }
  for (guint i = 0; i < components; i++)
    {
      guint h = MAX (frame[7 + 3 * i] >> 4, 1);
      guint v = MAX (frame[7 + 3 * i] & 0x0F, 1);
      guint64 blocks_wide = (width * h + 8 * max_h - 1) / (8 * max_h);
      guint64 blocks_high = (height * v + 8 * max_v - 1) / (8 * max_v);

      bytes += blocks_wide * blocks_high * 64 * 2;
    }
  return bytes;
}

/* Follows the marker segments to the first scan as libjpeg does (bytes
 * between segments skipped, the first frame header the one that counts),
 * then looks for the end of the image. A progressive JPEG, or one whose
 * first scan leaves out a component, libjpeg decodes into a buffer of all
 * the coefficients before it scales a row: those bytes count too. */
static void
sniff_jpeg (const guint8 *data,
            gsize         length,
            Sniff        *sniff)
{
  gboolean have_frame = FALSE;
  gboolean progressive = FALSE;
  guint components = 0;
  guint64 coefficients = 0;
  gsize pos = 2;

  sniff->format = FORMAT_JPEG;
  for (;;)
    {
      guint8 marker;
      gsize segment;

      while (pos < length && data[pos] != 0xFF)
        pos++;
      while (pos < length && data[pos] == 0xFF)
        pos++;
      if (pos >= length)
        break;
      marker = data[pos++];
      if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))
        continue;
      if (marker == 0xD9)
        return;
      if (length - pos < 2)
        break;
      segment = ((gsize) data[pos] << 8) | data[pos + 1];
      if (segment < 2)
        return;
      if (length - pos < segment)
        break;
      if (is_jpeg_sof (marker) && segment >= 7 && !have_frame)
        {
          guint64 width = ((guint64) data[pos + 5] << 8) | data[pos + 6];
          guint64 height = ((guint64) data[pos + 3] << 8) | data[pos + 4];

          have_frame = TRUE;
          declare (sniff, width, height);
          progressive = is_jpeg_progressive (marker);
          components = segment >= 8 ? data[pos + 7] : 0;
          coefficients = jpeg_coefficient_bytes (data + pos + 2, segment - 2, width, height);
        }
      if (marker == 0xDA && segment >= 3 && (progressive || data[pos + 2] < components))
        sniff->buffer_bytes = coefficients;
      pos += segment;
      if (marker == 0xDA)
        {
          /* In entropy-coded data 0xFF is followed only by 0x00 or a
           * restart marker: the first FF D9 is the end of the image. */
          if (memmem (data + pos, length - pos, "\xFF\xD9", 2) != NULL)
            return;
          break;
        }
    }
  sniff->truncated = TRUE;
}

/* Walks the chunks to IEND. libpng reads the size from the first chunk,
 * IHDR; any other IHDR counts too, which only errs on the safe side. */
static void
sniff_png (const guint8 *data,
           gsize         length,
           Sniff        *sniff)
{
  gsize pos = 8;

  sniff->format = FORMAT_PNG;
  while (length - pos >= 12)
    {
      guint32 chunk = read_be32 (data + pos);
      const guint8 *type = data + pos + 4;

      if (length - pos - 12 < chunk)
        break;
      if (memcmp (type, "IHDR", 4) == 0 && chunk >= 8)
        declare (sniff, read_be32 (data + pos + 8), read_be32 (data + pos + 12));
      if (memcmp (type, "IEND", 4) == 0)
        return;
      pos += 12 + (gsize) chunk;
    }
  sniff->truncated = TRUE;
}

/* Skips a GIF's data sub-blocks from @pos; FALSE when the data ends first. */
static gboolean
skip_gif_blocks (const guint8 *data,
                 gsize         length,
                 gsize        *pos)
{
  while (*pos < length)
    {
      guint8 size = data[(*pos)++];

      if (size == 0)
        return TRUE;
      if (length - *pos < size)
        return FALSE;
      *pos += size;
    }
  return FALSE;
}

/* The logical screen, then every frame: gdk-pixbuf's loader keeps a frame
 * at its own size, which may pass the screen's. */
static void
sniff_gif (const guint8 *data,
           gsize         length,
           Sniff        *sniff)
{
  gsize pos = 13;
  guint images = 0;
  gboolean whole = TRUE; /* pos is at the start of a block */

  sniff->format = FORMAT_GIF;
  if (length < pos)
    {
      sniff->truncated = TRUE;
      return;
    }
  declare (sniff, read_le16 (data + 6), read_le16 (data + 8));
  if (data[10] & 0x80)
    pos += (gsize) 3 << ((data[10] & 0x07) + 1);

  while (pos < length)
    {
      guint8 block = data[pos++];

      whole = FALSE;
      if (block == 0x3B)
        return;
      if (block == 0x21)
        {
          /* An extension: its label, then its data. */
          pos++;
          if (pos > length || !skip_gif_blocks (data, length, &pos))
            break;
        }
      else if (block == 0x2C)
        {
          guint8 flags;

          if (length - pos < 9)
            break;
          declare (sniff, read_le16 (data + pos + 4), read_le16 (data + pos + 6));
          flags = data[pos + 8];
          pos += 9;
          if (flags & 0x80)
            pos += (gsize) 3 << ((flags & 0x07) + 1);
          /* The LZW code size, then the data. */
          pos++;
          if (pos > length || !skip_gif_blocks (data, length, &pos))
            break;
          images++;
        }
      else
        {
          /* A structure it does not follow is left to the loader. */
          return;
        }
      whole = TRUE;
    }
  /* Data that ends after a whole image with no trailer still decodes;
   * data that ends inside a block does not. */
  if (!whole || pos != length || images == 0)
    sniff->truncated = TRUE;
}

/* The sizes in a run of RIFF chunks: a VP8X canvas, VP8 and VP8L
 * bitstreams, and animation frames (with their own chunks inside). */
static void
sniff_webp_chunks (const guint8 *data,
                   gsize         start,
                   gsize         end,
                   gboolean      in_frame,
                   Sniff        *sniff)
{
  gsize pos = start;

  while (end - pos >= 8)
    {
      const guint8 *type = data + pos;
      const guint8 *body = data + pos + 8;
      guint32 size = read_le32 (data + pos + 4);

      if (end - pos - 8 < size)
        {
          sniff->truncated = TRUE;
          return;
        }
      if (memcmp (type, "VP8X", 4) == 0 && size >= 10)
        declare (sniff, (guint64) read_le24 (body + 4) + 1, (guint64) read_le24 (body + 7) + 1);
      else if (memcmp (type, "VP8 ", 4) == 0 && size >= 10 && memcmp (body + 3, "\x9D\x01\x2A", 3) == 0)
        declare (sniff, read_le16 (body + 6) & 0x3FFF, read_le16 (body + 8) & 0x3FFF);
      else if (memcmp (type, "VP8L", 4) == 0 && size >= 5 && body[0] == 0x2F)
        {
          guint32 bits = read_le32 (body + 1);

          declare (sniff, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
        }
      else if (memcmp (type, "ANMF", 4) == 0 && size >= 16 && !in_frame)
        {
          declare (sniff, (guint64) read_le24 (body + 6) + 1, (guint64) read_le24 (body + 9) + 1);
          sniff_webp_chunks (data, pos + 8 + 16, pos + 8 + size, TRUE, sniff);
        }
      /* Chunks are padded to an even size. */
      pos += 8 + (gsize) size;
      if (size & 1)
        pos = MIN (pos + 1, end);
    }
}

static void
sniff_webp (const guint8 *data,
            gsize         length,
            Sniff        *sniff)
{
  guint64 end = 8 + (guint64) read_le32 (data + 4);

  sniff->format = FORMAT_WEBP;
  if (end > length)
    {
      sniff->truncated = TRUE;
      end = length;
    }
  sniff_webp_chunks (data, 12, (gsize) end, FALSE, sniff);
}

/* HEIC, HEIF and AVIF: an ISO base media file whose ftyp box names one of
 * their brands. */
static gboolean
is_heif (const guint8 *data,
         gsize         length)
{
  static const char *const brands[] = {
    "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1", "avif", "avis",
  };

  if (length < 12 || memcmp (data + 4, "ftyp", 4) != 0)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (brands); i++)
    if (memcmp (data + 8, brands[i], 4) == 0)
      return TRUE;
  return FALSE;
}

/* Which format the bytes are in, from their signature alone, and what
 * their structure says. Loaders decode a truncated JPEG, GIF or WebP
 * without a word, the missing part grey: the files' own structure tells. */
static void
sniff_image (const guint8 *data,
             gsize         length,
             Sniff        *sniff)
{
  static const guint8 png_signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

  if (length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    sniff_jpeg (data, length, sniff);
  else if (length >= sizeof png_signature && memcmp (data, png_signature, sizeof png_signature) == 0)
    sniff_png (data, length, sniff);
  else if (length >= 6 && (memcmp (data, "GIF87a", 6) == 0 || memcmp (data, "GIF89a", 6) == 0))
    sniff_gif (data, length, sniff);
  else if (length >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0)
    sniff_webp (data, length, sniff);
  else if (is_heif (data, length))
    sniff->format = FORMAT_HEIF;
}

typedef struct {
  int size;
  const Sniff *sniff;
  gboolean refused;  /* the loader found a larger image than the header declares */
} Decoding;

/* The size of a @width × @height image scaled down to @size at most. */
static void
fit (int  width,
     int  height,
     int  size,
     int *fit_width,
     int *fit_height)
{
  int longest = MAX (width, height);

  *fit_width = width;
  *fit_height = height;
  if (longest <= size)
    return;
  *fit_width = MAX (1, (int) (((gint64) width * size + longest / 2) / longest));
  *fit_height = MAX (1, (int) (((gint64) height * size + longest / 2) / longest));
}

static void
on_size_prepared (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         data)
{
  Decoding *decoding = data;
  int fit_width;
  int fit_height;

  if (width <= 0 || height <= 0)
    return;
  /* The header was checked against the bound: a loader that reads a
   * larger size elsewhere is stopped before it allocates (a size of 0
   * makes the JPEG, PNG and GIF loaders fail at once). */
  if ((guint64) width > decoding->sniff->width || (guint64) height > decoding->sniff->height)
    {
      decoding->refused = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
      return;
    }
  /* Before the orientation: the longest side is the same after it. A JPEG
   * loader then decodes at a reduced scale, fast. */
  fit (width, height, decoding->size, &fit_width, &fit_height);
  if (fit_width != width || fit_height != height)
    gdk_pixbuf_loader_set_size (loader, fit_width, fit_height);
}

/* Numbers as text: a format macro cannot stand in a translatable string. */
static char *
number_text (guint64 number)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, number);
}

static GError *
too_large_error (const char *key,
                 guint64     width,
                 guint64     height)
{
  g_autofree char *width_text = number_text (width);
  g_autofree char *height_text = number_text (height);
  g_autofree char *megabytes = number_text (MAX_DECODE_BYTES / 1000000);

  return g_error_new (MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_TOO_LARGE,
                      /* Translators: the photo's name, its width and height in
                       * pixels, then the most memory Mealtrace decodes a photo in. */
                      _("The photo “%s” is not shown: at %s × %s pixels it would take more than the %s MB of memory Mealtrace gives a photo. Open it in an image viewer, or upload a smaller copy."),
                      key, width_text, height_text, megabytes);
}

/* Refuses what is not a photo Mealtrace shows, or would take more memory
 * than the bound, before any loader reads a byte of it. */
static gboolean
check_sniff (const Sniff  *sniff,
             const char   *key,
             GError      **error)
{
  const char *name = formats[sniff->format].name;

  switch (sniff->format)
    {
    case FORMAT_NONE:
      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_NOT_AN_IMAGE,
                   _("The photo “%s” is not a JPEG, PNG, WebP or GIF image, the formats Mealtrace shows. Check that the object in S3 is a photo."),
                   key);
      return FALSE;
    case FORMAT_HEIF:
      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_NOT_AN_IMAGE,
                   _("The photo “%s” is a HEIF image (HEIC or AVIF), which Mealtrace does not show. Convert it to JPEG to see it here."),
                   key);
      return FALSE;
    case FORMAT_JPEG:
    case FORMAT_PNG:
    case FORMAT_GIF:
    case FORMAT_WEBP:
    default:
      break;
    }

  if (sniff->truncated)
    {
      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_TRUNCATED,
                   /* Translators: the photo's name, then its format, such as JPEG. */
                   _("The photo “%s” could not be read: the %s file ends before its image does. It was probably cut short while being uploaded; upload it again."),
                   key, name);
      return FALSE;
    }
  if (sniff->width == 0 || sniff->height == 0)
    {
      g_autofree char *width_text = number_text (sniff->width);
      g_autofree char *height_text = number_text (sniff->height);

      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_CORRUPT,
                   /* Translators: the photo's name, its format, then its width and height. */
                   _("The photo “%s” could not be read: the %s file is damaged, its header gives an image of %s × %s pixels. Upload it again."),
                   key, name, width_text, height_text);
      return FALSE;
    }
  /* Each side first: their product could pass 64 bits. */
  if (sniff->width > MT_PREVIEW_CACHE_MAX_PIXELS || sniff->height > MT_PREVIEW_CACHE_MAX_PIXELS ||
      MAX (sniff->width * sniff->height * 4, sniff->buffer_bytes) > MAX_DECODE_BYTES)
    {
      g_propagate_error (error, too_large_error (key, sniff->width, sniff->height));
      return FALSE;
    }
  return TRUE;
}

static GdkTexture *
decode (GBytes        *bytes,
        const char    *key,
        int            size,
        GCancellable  *cancellable,
        GError       **error)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GdkPixbuf) oriented = NULL;
  Sniff sniff = { FORMAT_NONE, FALSE, 0, 0, 0 };
  Decoding decoding = { size, &sniff, FALSE };
  GdkPixbuf *pixbuf;
  gsize length;
  const guint8 *data = g_bytes_get_data (bytes, &length);
  gsize pos = 0;
  int fit_width;
  int fit_height;

  if (length == 0)
    {
      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_EMPTY,
                   _("The photo “%s” could not be read: the object in S3 is empty. Upload the photo again."), key);
      return NULL;
    }

  sniff_image (data, length, &sniff);
  if (!check_sniff (&sniff, key, error))
    return NULL;

  /* The format's own loader: gdk-pixbuf's guess would hand the bytes to
   * any loader installed (SVG, TIFF, TGA, ...). */
  loader = gdk_pixbuf_loader_new_with_type (formats[sniff.format].loader, &local_error);
  if (loader == NULL)
    {
      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_NOT_AN_IMAGE,
                   /* Translators: the photo's name, its format twice, then the
                   * image loader's own words. */
                   _("The photo “%s” is a %s image, and this system has no image loader for %s (%s). Install gdk-pixbuf's loader for it (for WebP, webp-pixbuf-loader) to see it."),
                   key, formats[sniff.format].name, formats[sniff.format].name, local_error->message);
      return NULL;
    }
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &decoding);
  while (pos < length && !decoding.refused)
    {
      gsize chunk = MIN (length - pos, CHUNK_SIZE);

      if (g_cancellable_is_cancelled (cancellable) ||
          !gdk_pixbuf_loader_write (loader, data + pos, chunk, &local_error))
        break;
      pos += chunk;
    }
  /* A loader is closed in every case; its complaint then only matters
   * when everything before went well. */
  if (pos == length && !decoding.refused)
    gdk_pixbuf_loader_close (loader, &local_error);
  else
    gdk_pixbuf_loader_close (loader, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (decoding.refused)
    {
      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_CORRUPT,
                   /* Translators: the photo's name, then its format. */
                   _("The photo “%s” could not be read: the %s file holds a larger image than its header declares. Upload it again."),
                   key, formats[sniff.format].name);
      return NULL;
    }
  if (g_error_matches (local_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY))
    {
      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_TOO_LARGE,
                   _("The photo “%s” could not be read: there is not enough memory to decode it. Close other applications, or open it in an image viewer."), key);
      return NULL;
    }
  pixbuf = local_error == NULL ? gdk_pixbuf_loader_get_pixbuf (loader) : NULL;
  if (pixbuf != NULL)
    oriented = gdk_pixbuf_apply_embedded_orientation (pixbuf);
  if (oriented == NULL)
    {
      g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_CORRUPT,
                   /* Translators: the photo's name, its format, then why the
                    * image loader refused it. */
                   _("The photo “%s” could not be read: the %s file is damaged (%s). Upload it again."),
                   key, formats[sniff.format].name,
                   local_error != NULL ? local_error->message : _("the image loader found no picture in it"));
      return NULL;
    }

  /* Animations, for one, keep their size: scale the still here. */
  fit (gdk_pixbuf_get_width (oriented), gdk_pixbuf_get_height (oriented), size, &fit_width, &fit_height);
  if (fit_width != gdk_pixbuf_get_width (oriented) || fit_height != gdk_pixbuf_get_height (oriented))
    {
      GdkPixbuf *scaled = gdk_pixbuf_scale_simple (oriented, fit_width, fit_height, GDK_INTERP_BILINEAR);

      if (scaled == NULL)
        {
          g_set_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_TOO_LARGE,
                       _("The photo “%s” could not be read: there is not enough memory to scale it. Close other applications, or open it in an image viewer."), key);
          return NULL;
        }
      g_object_unref (oriented);
      oriented = scaled;
    }

  return gdk_texture_new_for_pixbuf (oriented);
}

static void
decode_job_free (gpointer data)
{
  DecodeJob *job = data;

  g_bytes_unref (job->bytes);
  g_free (job->key);
  g_free (job);
}

static void
decode_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  DecodeJob *job = task_data;
  GError *error = NULL;
  GdkTexture *texture;

  texture = decode (job->bytes, job->key, job->size, cancellable, &error);
  if (texture == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, texture, g_object_unref);
}

static void
on_decoded (GObject      *source_object,
            GAsyncResult *result,
            gpointer      data)
{
  Load *load = data;
  GError *error = NULL;
  g_autoptr(GdkTexture) texture = g_task_propagate_pointer (G_TASK (result), &error);

  load_complete (load, texture, error);
  load_unref (load);
}

static void
on_fetched (GObject      *source_object,
            GAsyncResult *result,
            gpointer      data)
{
  Load *load = data;
  GError *error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GTask) task = NULL;
  DecodeJob *job;

  bytes = mt_s3_client_get_object_finish (MT_S3_CLIENT (source_object), result, &error);
  if (bytes == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("The photo “%s” could not be loaded: "), load->key);
      load_complete (load, NULL, error);
      load_unref (load);
      return;
    }
  if (load->cache == NULL)
    {
      load_unref (load);
      return;
    }

  job = g_new0 (DecodeJob, 1);
  job->bytes = g_steal_pointer (&bytes);
  job->key = g_strdup (load->key);
  job->size = load->size;
  /* The load's reference goes on to the decode. */
  task = g_task_new (NULL, load->cancellable, on_decoded, load);
  g_task_set_source_tag (task, on_fetched);
  g_task_set_task_data (task, job, decode_job_free);
  g_task_run_in_thread (task, decode_thread);
}

/* The cache */

MtPreviewCache *
mt_preview_cache_new (gsize max_bytes)
{
  return g_object_new (MT_TYPE_PREVIEW_CACHE, "max-bytes", (guint64) max_bytes, NULL);
}

void
mt_preview_cache_set_client (MtPreviewCache *self,
                             MtS3Client     *client)
{
  g_return_if_fail (MT_IS_PREVIEW_CACHE (self));
  g_return_if_fail (client == NULL || MT_IS_S3_CLIENT (client));

  if (self->client == client)
    return;

  /* Another run's photos: nothing held or under way is theirs. */
  cancel_loads (self);
  clear_entries (self);
  g_set_object (&self->client, client);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT]);
}

MtS3Client *
mt_preview_cache_get_client (MtPreviewCache *self)
{
  g_return_val_if_fail (MT_IS_PREVIEW_CACHE (self), NULL);
  return self->client;
}

GdkTexture *
mt_preview_cache_lookup (MtPreviewCache *self,
                         const char     *key,
                         int             size)
{
  g_autofree char *id = NULL;
  Entry *entry;

  g_return_val_if_fail (MT_IS_PREVIEW_CACHE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (size > 0, NULL);

  id = make_id (key, size);
  entry = g_hash_table_lookup (self->entries, id);
  if (entry == NULL)
    return NULL;
  touch (self, entry);
  return g_object_ref (entry->texture);
}

void
mt_preview_cache_load_async (MtPreviewCache      *self,
                             const char          *key,
                             int                  size,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *id = NULL;
  Waiter *waiter;
  Load *load;

  g_return_if_fail (MT_IS_PREVIEW_CACHE (self));
  g_return_if_fail (key != NULL);
  g_return_if_fail (size > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_preview_cache_load_async);

  if (g_task_return_error_if_cancelled (task))
    return;

  texture = mt_preview_cache_lookup (self, key, size);
  if (texture != NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&texture), g_object_unref);
      return;
    }

  if (self->client == NULL)
    {
      g_task_return_new_error (task, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_NO_CLIENT,
                               _("The photo “%s” cannot be loaded: no S3 bucket is set up."), key);
      return;
    }

  id = make_id (key, size);
  load = g_hash_table_lookup (self->loads, id);
  if (load == NULL)
    {
      load = g_rc_box_new0 (Load);
      load->cache = self;
      load->id = g_steal_pointer (&id);
      load->key = g_strdup (key);
      load->size = size;
      load->cancellable = g_cancellable_new ();
      load->waiters = g_ptr_array_new ();
      g_hash_table_insert (self->loads, load->id, load);
      mt_s3_client_get_object_async (self->client, key, MT_PREVIEW_CACHE_MAX_OBJECT_SIZE,
                                     load->cancellable, on_fetched, load_ref (load));
    }

  waiter = g_new0 (Waiter, 1);
  waiter->task = g_steal_pointer (&task);
  waiter->load = load;
  if (cancellable != NULL)
    {
      waiter->cancelled_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (waiter->cancelled_source, G_SOURCE_FUNC (on_waiter_cancelled), waiter, NULL);
      g_source_set_static_name (waiter->cancelled_source, "[mealtrace] preview request cancelled");
      g_source_attach (waiter->cancelled_source, g_task_get_context (waiter->task));
    }
  g_ptr_array_add (load->waiters, waiter);
}

GdkTexture *
mt_preview_cache_load_finish (MtPreviewCache  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gsize
mt_preview_cache_get_bytes (MtPreviewCache *self)
{
  g_return_val_if_fail (MT_IS_PREVIEW_CACHE (self), 0);
  return self->bytes;
}

gsize
mt_preview_cache_get_max_bytes (MtPreviewCache *self)
{
  g_return_val_if_fail (MT_IS_PREVIEW_CACHE (self), 0);
  return self->max_bytes;
}

static void
mt_preview_cache_dispose (GObject *object)
{
  MtPreviewCache *self = MT_PREVIEW_CACHE (object);

  cancel_loads (self);
  clear_entries (self);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (mt_preview_cache_parent_class)->dispose (object);
}

static void
mt_preview_cache_finalize (GObject *object)
{
  MtPreviewCache *self = MT_PREVIEW_CACHE (object);

  g_hash_table_unref (self->entries);
  g_hash_table_unref (self->loads);

  G_OBJECT_CLASS (mt_preview_cache_parent_class)->finalize (object);
}

static void
mt_preview_cache_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MtPreviewCache *self = MT_PREVIEW_CACHE (object);

  switch (prop_id)
    {
    case PROP_MAX_BYTES:
      g_value_set_uint64 (value, self->max_bytes);
      break;
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_preview_cache_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  MtPreviewCache *self = MT_PREVIEW_CACHE (object);

  switch (prop_id)
    {
    case PROP_MAX_BYTES:
      self->max_bytes = (gsize) MIN (g_value_get_uint64 (value), (guint64) G_MAXSIZE);
      break;
    case PROP_CLIENT:
      mt_preview_cache_set_client (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_preview_cache_class_init (MtPreviewCacheClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mt_preview_cache_dispose;
  object_class->finalize = mt_preview_cache_finalize;
  object_class->get_property = mt_preview_cache_get_property;
  object_class->set_property = mt_preview_cache_set_property;

  properties[PROP_MAX_BYTES] =
    g_param_spec_uint64 ("max-bytes", NULL, NULL,
                         0, G_MAXUINT64, 64 * 1024 * 1024,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         MT_TYPE_S3_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_preview_cache_init (MtPreviewCache *self)
{
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  self->loads = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, load_unref);
  g_queue_init (&self->lru);
}
