package io.mpvss.config;

import org.apache.flink.configuration.DescribedEnum;
import org.apache.flink.configuration.description.InlineElement;
import org.apache.flink.configuration.description.TextElement;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** Where the frames source starts when there is no checkpoint ({@code kafka.starting-offsets}). */
public enum StartingOffsets implements DescribedEnum {
    COMMITTED_OR_EARLIEST("committed-or-earliest", "the group's committed offsets, else the earliest"),
    EARLIEST("earliest", "the earliest offsets (replays the topic)"),
    LATEST("latest", "the latest offsets (only new frames)");

    private final String value;
    private final String description;

    StartingOffsets(String value, String description) {
        this.value = value;
        this.description = description;
    }

    /** The source's offsets initializer. */
    public OffsetsInitializer initializer() {
        return switch (this) {
            case COMMITTED_OR_EARLIEST -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
        };
    }

    /** The value as written in configuration; Flink parses enum options by it (case-insensitive). */
    @Override
    public String toString() {
        return value;
    }

    @Override
    public InlineElement getDescription() {
        return TextElement.text(description);
    }
}
