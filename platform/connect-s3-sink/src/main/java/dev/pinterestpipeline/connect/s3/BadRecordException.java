package dev.pinterestpipeline.connect.s3;

import org.apache.kafka.connect.errors.DataException;

/** A record whose value cannot become one JSON line; it goes to the errant record reporter, never nowhere. */
final class BadRecordException extends DataException {

    BadRecordException(String message) {
        super(message);
    }

    BadRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
