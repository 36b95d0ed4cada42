package io.mpvss.cli;

import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;

import io.mpvss.config.JobOptions;
import io.mpvss.format.WireFormat;
import io.mpvss.render.Palette;
import io.mpvss.view.LiveView;
import io.mpvss.view.StreamBoard;

/** {@code mpvss view}: the live web page of every stream's latest label map, until Ctrl-C. */
final class ViewCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss view [options]",
            "  A local web page showing every stream of the masks topic live: its latest label map in the model's",
            "  class colours, a KEY FRAME / PROPAGATED badge, the classes with their share of the pixels, frames/s",
            "  and lag per stream, and the dead-letter count of frames-dlq. New streams appear as they start.",
            "  Reads with isolation.level=read_committed, outside any consumer group (commits nothing).",
            KafkaClients.SERVERS_USAGE,
            "  --port N                   HTTP port (default 8080; 0 = any free port)",
            "  --host ADDR                address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)",
            "  --model.dir DIR            model bundle whose manifest.json gives class colours (default: the",
            "                             bundled model, model-ops/bundle)",
            "  --topic NAME               masks topic (default masks)",
            "  --dlq-topic NAME           dead-letter topic (default frames-dlq)",
            "  --backlog N                masks read before the end of each partition at start (default 100)",
            "  --duration DUR             stop after this long (default: until Ctrl-C)",
            KafkaClients.PROPERTIES_USAGE);

    private ViewCommand() {
    }

    static int run(Args args, PrintStream out) throws Exception {
        if (args.has("help")) {
            out.println(USAGE);
            return 0;
        }
        String servers = KafkaClients.bootstrapServers(args);
        int port = args.getInt("port", 8080);
        String host = args.get("host", "127.0.0.1");
        boolean modelGiven = args.has(JobOptions.MODEL_DIR.key());
        Path model = RepoPaths.modelDir(args);
        String topic = args.get("topic", WireFormat.DEFAULT_MASKS_TOPIC);
        String dlqTopic = args.get("dlq-topic", WireFormat.DEFAULT_DLQ_TOPIC);
        int backlog = args.getInt("backlog", 100);
        Duration duration = args.getDuration("duration", null);
        var user = KafkaClients.userProperties(args);
        args.rejectUnknown();
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be 0..65535, got " + port);
        }
        if (backlog < 0) {
            throw new UsageException("--backlog must be >= 0, got " + backlog);
        }
        if (modelGiven) {
            RepoPaths.requireModelBundle(model);
        }
        Palette palette = Palette.fromManifest(model);

        Properties consumer = consumerProperties(servers, user);
        LiveView view;
        try {
            view = LiveView.builder()
                    .board(new StreamBoard(palette))
                    .consumerProperties(consumer)
                    .masksTopic(topic)
                    .dlqTopic(dlqTopic.isEmpty() ? null : dlqTopic)
                    .host(host)
                    .port(port)
                    .backlog(backlog)
                    .out(out)
                    .build();
        } catch (BindException e) {
            throw new UsageException("cannot listen on " + host + ":" + port + " (" + e.getMessage()
                    + "): choose another --port, or 0 for any free one");
        }
        try (StopSignal stop = new StopSignal("mpvss-view-stop", Duration.ofSeconds(10)).install(() -> { }); view) {
            view.start();
            out.println("live view: " + view.uri() + "  (masks from topic '" + topic + "' at " + servers
                    + ", colours of " + model.getFileName() + "; Ctrl-C to stop)");
            out.flush();
            stop.await(duration);
            out.println("stopping the live view (" + view.board().streamIds().size() + " streams seen)");
        }
        return 0;
    }

    /** read_committed, no group (the view assigns partitions itself and commits nothing). */
    static Properties consumerProperties(String servers, Properties user) {
        Properties p = KafkaClients.consumer(servers, user, "mpvss-view-" + UUID.randomUUID());
        p.remove(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_ID_CONFIG);
        p.putAll(user);
        p.remove(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_ID_CONFIG);
        return p;
    }
}
