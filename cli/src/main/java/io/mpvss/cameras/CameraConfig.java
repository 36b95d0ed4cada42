package io.mpvss.cameras;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A {@code cameras.yaml} (see kafka-config/cameras.example.yaml): an optional {@code defaults} block and a list of
 * {@code cameras}, each with an {@code id} (the stream id = record key) and a {@code source}.
 *
 * <p>Every problem is one {@link CameraConfigException} naming the file, the line and the camera, so that a bad file
 * stops the gateway before any camera starts. Unknown keys are errors (a misspelt {@code fsp:} would otherwise be
 * silently ignored).
 */
public final class CameraConfig {

    /** Where a camera's frames come from; decides the ffmpeg input options. */
    public enum Kind { RTSP, HTTP, V4L2, FILE }

    /** One camera, resolved against the defaults. */
    public record Camera(String id, String source, Kind kind, double maxFps, String size, int quality, boolean loop,
                         boolean listen, String rtspTransport, List<String> inputOptions, Duration reconnectInitial,
                         Duration reconnectMax, Duration stallTimeout, int line) {
    }

    static final Set<String> CAMERA_KEYS = new LinkedHashSet<>(List.of("id", "source", "fps", "size", "quality",
            "loop", "listen", "rtsp_transport", "input_options", "reconnect_initial", "reconnect_max",
            "stall_timeout"));
    static final Set<String> DEFAULT_KEYS = new LinkedHashSet<>(List.of("fps", "size", "quality", "rtsp_transport",
            "input_options", "reconnect_initial", "reconnect_max", "stall_timeout"));
    static final Set<String> TOP_KEYS = new LinkedHashSet<>(List.of("defaults", "cameras"));

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:@/-]{1,128}");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,5})x(\\d{1,5})");
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|min|m|h)?");

    private final Path file;
    private final List<Camera> cameras;

    private CameraConfig(Path file, List<Camera> cameras) {
        this.file = file;
        this.cameras = List.copyOf(cameras);
    }

    public Path file() {
        return file;
    }

    public List<Camera> cameras() {
        return cameras;
    }

    /** Reads and checks a cameras.yaml. Relative file sources are resolved against the file's folder. */
    public static CameraConfig read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CameraConfigException(file + ": no such file");
        }
        Node root;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            root = new Yaml(options).compose(r);
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String where = m != null ? " line " + (m.getLine() + 1) : "";
            String what = e.getProblem() != null ? e.getProblem() : e.getMessage();
            throw new CameraConfigException(file + where + ": not valid YAML: " + what.trim());
        } catch (IOException e) {
            throw new CameraConfigException(file + ": cannot read: " + e.getMessage());
        } catch (RuntimeException e) {
            throw new CameraConfigException(file + ": not valid YAML: " + e.getMessage());
        }
        return new Parser(file).parse(root);
    }

    /** Parses with line numbers in every message. */
    private static final class Parser {
        private final Path file;
        private final Path base;

        Parser(Path file) {
            this.file = file;
            Path parent = file.toAbsolutePath().getParent();
            this.base = parent == null ? Path.of(".") : parent;
        }

        CameraConfigException error(Node at, String camera, String message) {
            String where = at == null ? "" : " line " + (at.getStartMark().getLine() + 1);
            return new CameraConfigException(file + where + (camera == null ? "" : ": camera '" + camera + "'") + ": "
                    + message);
        }

        CameraConfig parse(Node root) {
            if (root == null) {
                throw error(null, null, "empty file: expected a 'cameras:' list (see kafka-config/cameras.example.yaml)");
            }
            Map<String, Node> top = mapping(root, null, "the file", TOP_KEYS);
            Map<String, Node> defaults = top.containsKey("defaults")
                    ? mapping(top.get("defaults"), null, "'defaults'", DEFAULT_KEYS) : Map.of();
            Node list = top.get("cameras");
            if (list == null) {
                throw error(root, null, "no 'cameras:' list (see kafka-config/cameras.example.yaml)");
            }
            if (!(list instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
                throw error(list, null, "'cameras' must be a non-empty list of cameras ('- id: ...')");
            }
            List<Camera> cameras = new ArrayList<>();
            Map<String, Integer> seen = new LinkedHashMap<>();
            int index = 0;
            for (Node n : seq.getValue()) {
                index++;
                String label = "#" + index;
                if (n instanceof MappingNode m) {
                    // name the camera by its id in messages about its other keys
                    for (NodeTuple t : m.getValue()) {
                        if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals("id")
                                && t.getValueNode() instanceof ScalarNode v) {
                            label = v.getValue();
                        }
                    }
                }
                Map<String, Node> c = mapping(n, label, "a camera", CAMERA_KEYS);
                Node idNode = c.get("id");
                if (idNode == null) {
                    throw error(n, label, "'id' is missing (the stream id, e.g. 'gate-north')");
                }
                String id = scalar(idNode, label, "id");
                if (!ID.matcher(id).matches()) {
                    throw error(idNode, label, "'id' must be 1-128 characters of letters, digits and . _ : @ / -, got '"
                            + id + "'");
                }
                Integer before = seen.put(id, idNode.getStartMark().getLine() + 1);
                if (before != null) {
                    throw error(idNode, id, "id used twice (also on line " + before + "): one stream id per camera");
                }
                cameras.add(camera(id, n, c, defaults));
            }
            return new CameraConfig(file, cameras);
        }

        Camera camera(String id, Node node, Map<String, Node> c, Map<String, Node> defaults) {
            Node sourceNode = c.get("source");
            if (sourceNode == null) {
                throw error(node, id, "'source' is missing (an rtsp:// or http:// URL, a video file or /dev/videoN)");
            }
            String source = scalar(sourceNode, id, "source").trim();
            Kind kind = kindOf(source);
            if (kind == Kind.FILE) {
                Path p = Path.of(source.startsWith("file:") ? source.substring(5) : source);
                if (!p.isAbsolute()) {
                    p = base.resolve(p).normalize();
                }
                // an image sequence (frames/%06d.jpg, ffmpeg's image2 pattern) is checked by its folder
                boolean sequence = p.getFileName() != null && p.getFileName().toString().contains("%");
                if (sequence ? !Files.isDirectory(p.getParent()) : !Files.isRegularFile(p)) {
                    throw error(sourceNode, id, "no such file: " + p
                            + " (a source is an rtsp:// or http(s):// URL, a video file or /dev/videoN)");
                }
                source = p.toString();
            }
            double fps = number(pick(c, defaults, "fps"), id, "fps", 10);
            if (!(fps > 0 && fps <= 240)) {
                throw error(pick(c, defaults, "fps"), id, "'fps' must be in (0, 240], got " + fmt(fps));
            }
            String size = null;
            Node sizeNode = pick(c, defaults, "size");
            if (sizeNode != null) {
                size = scalar(sizeNode, id, "size").trim().toLowerCase(Locale.ROOT);
                Matcher m = SIZE.matcher(size);
                if (!m.matches() || Integer.parseInt(m.group(1)) < 8 || Integer.parseInt(m.group(2)) < 8) {
                    throw error(sizeNode, id, "'size' must be WIDTHxHEIGHT (each >= 8), e.g. 512x256, got '" + size
                            + "'");
                }
            }
            double q = number(pick(c, defaults, "quality"), id, "quality", 5);
            if (q != Math.rint(q) || q < 2 || q > 31) {
                throw error(pick(c, defaults, "quality"), id, "'quality' is the JPEG quality 2 (best) .. 31, got "
                        + fmt(q));
            }
            boolean loop = bool(c.get("loop"), id, "loop", false);
            if (loop && kind != Kind.FILE) {
                throw error(c.get("loop"), id, "'loop' is for video files only (this source is " + kind.name()
                        .toLowerCase(Locale.ROOT) + ")");
            }
            boolean listen = bool(c.get("listen"), id, "listen", false);
            if (listen && kind != Kind.RTSP) {
                throw error(c.get("listen"), id, "'listen' is for rtsp:// sources only (cameras that push to the "
                        + "gateway)");
            }
            String transport = "tcp";
            Node tn = pick(c, defaults, "rtsp_transport");
            if (tn != null) {
                transport = scalar(tn, id, "rtsp_transport").trim().toLowerCase(Locale.ROOT);
                if (!transport.equals("tcp") && !transport.equals("udp")) {
                    throw error(tn, id, "'rtsp_transport' must be tcp or udp, got '" + transport + "'");
                }
            }
            List<String> inputOptions = new ArrayList<>();
            Node io = pick(c, defaults, "input_options");
            if (io != null) {
                if (!(io instanceof SequenceNode s)) {
                    throw error(io, id, "'input_options' must be a list of ffmpeg arguments, e.g. [-video_size, "
                            + "640x480]");
                }
                for (Node o : s.getValue()) {
                    inputOptions.add(scalar(o, id, "input_options"));
                }
            }
            Duration initial = duration(pick(c, defaults, "reconnect_initial"), id, "reconnect_initial",
                    Duration.ofSeconds(1));
            Duration max = duration(pick(c, defaults, "reconnect_max"), id, "reconnect_max", Duration.ofSeconds(30));
            if (max.compareTo(initial) < 0) {
                throw error(pick(c, defaults, "reconnect_max"), id, "'reconnect_max' (" + max.toMillis()
                        + " ms) is below 'reconnect_initial' (" + initial.toMillis() + " ms)");
            }
            Duration stall = duration(pick(c, defaults, "stall_timeout"), id, "stall_timeout", Duration.ofSeconds(10));
            return new Camera(id, source, kind, fps, size, (int) q, loop, listen, transport, List.copyOf(inputOptions),
                    initial, max, stall, node.getStartMark().getLine() + 1);
        }

        static Kind kindOf(String source) {
            String s = source.toLowerCase(Locale.ROOT);
            if (s.startsWith("rtsp://") || s.startsWith("rtsps://")) {
                return Kind.RTSP;
            }
            if (s.startsWith("http://") || s.startsWith("https://")) {
                return Kind.HTTP;
            }
            if (s.startsWith("/dev/video") || s.startsWith("v4l2:")) {
                return Kind.V4L2;
            }
            return Kind.FILE;
        }

        Node pick(Map<String, Node> camera, Map<String, Node> defaults, String key) {
            return camera.containsKey(key) ? camera.get(key) : defaults.get(key);
        }

        Map<String, Node> mapping(Node n, String camera, String what, Set<String> known) {
            if (!(n instanceof MappingNode m)) {
                throw error(n, camera, what + " must be a mapping of 'key: value' lines");
            }
            Map<String, Node> r = new LinkedHashMap<>();
            for (NodeTuple t : m.getValue()) {
                String key = scalar(t.getKeyNode(), camera, "key");
                if (!known.contains(key)) {
                    throw error(t.getKeyNode(), camera, "unknown key '" + key + "' in " + what + " (known: "
                            + String.join(", ", known) + ")");
                }
                r.put(key, t.getValueNode());
            }
            return r;
        }

        String scalar(Node n, String camera, String key) {
            if (!(n instanceof ScalarNode s)) {
                throw error(n, camera, "'" + key + "' must be a single value");
            }
            return s.getValue();
        }

        double number(Node n, String camera, String key, double def) {
            if (n == null) {
                return def;
            }
            String v = scalar(n, camera, key);
            try {
                return Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw error(n, camera, "'" + key + "' must be a number, got '" + v + "'");
            }
        }

        boolean bool(Node n, String camera, String key, boolean def) {
            if (n == null) {
                return def;
            }
            String v = scalar(n, camera, key).trim().toLowerCase(Locale.ROOT);
            return switch (v) {
                case "true", "yes", "on" -> true;
                case "false", "no", "off" -> false;
                default -> throw error(n, camera, "'" + key + "' must be true or false, got '" + v + "'");
            };
        }

        Duration duration(Node n, String camera, String key, Duration def) {
            if (n == null) {
                return def;
            }
            String v = scalar(n, camera, key).trim().toLowerCase(Locale.ROOT);
            Matcher m = DURATION.matcher(v);
            if (!m.matches()) {
                throw error(n, camera, "'" + key + "' must be a duration like 500ms, 2s or 1min, got '" + v + "'");
            }
            double x = Double.parseDouble(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            double ms = switch (unit) {
                case "ms" -> x;
                case "s" -> x * 1000;
                case "m", "min" -> x * 60_000;
                default -> x * 3_600_000;
            };
            if (ms < 1) {
                throw error(n, camera, "'" + key + "' must be at least 1 ms, got '" + v + "'");
            }
            return Duration.ofMillis(Math.round(ms));
        }
    }

    /** The source with any password in it replaced by *** (for printing). */
    public static String redact(String source) {
        return source.replaceFirst("^([a-zA-Z][a-zA-Z0-9+.-]*://[^/:@]*):[^/@]*@", "$1:***@");
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
