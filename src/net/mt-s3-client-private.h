/* mt-s3-client-private.h — what the S3 client shows its tests and fuzz targets */
#pragma once

#include "mt-s3-client.h"

G_BEGIN_DECLS

/* The error the client gives for an answer of @status (not a success, not
 * a redirect it follows) whose body is @body: what a person reads when S3
 * refuses a request. */
GError *mt_s3_client_error_for_answer (MtS3Client *self,
                                       guint       status,
                                       GBytes     *body);

G_END_DECLS
