package io.mpvss.config;

import java.io.File;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;

import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.MemorySize;

/**
 * The keys the job understands, and the check of a command line against them: a typo such as
 * {@code --kafka.bootstrap-server} must stop start-up with one line and a suggestion, not start the job with the
 * defaults. Known keys are the job's options ({@link JobOptions#all()}), the {@code kafka.properties.*} pass-through,
 * every {@link ConfigOption} that Flink itself declares (public static fields of its {@code *Options} classes, found
 * by reflection in the Flink jars on the classpath, deprecated and fallback keys included) and the key families
 * Flink's plugins read without declaring them ({@link #PASS_THROUGH_PREFIXES}). Values of known options are parsed
 * as Flink will parse them, so {@code --key.interval abc} fails here with the key, the value and what is expected.
 */
public final class KnownOptions {

    /** Keys Flink passes to plugins and reporters without a declared ConfigOption; accepted as they are. */
    public static final List<String> PASS_THROUGH_PREFIXES = List.of(JobOptions.KAFKA_PROPERTIES_PREFIX,
            "metrics.reporter.", "s3.", "fs.", "gs.", "presto.s3.", "hive.s3.", "flink.hadoop.", "hadoop.", "azure.",
            "job-result-store.");

    /**
     * Option classes not loaded: initialising them loads much of Flink's runtime (JobResultStoreOptions pulls in the
     * file-system job result store and its JSON mapper: 8 s of a 10 s start here); their keys are in
     * {@link #PASS_THROUGH_PREFIXES}.
     */
    private static final Set<String> NOT_LOADED = Set.of(
            "org.apache.flink.runtime.highavailability.JobResultStoreOptions");

    /** Classes holding Flink ConfigOptions outside org.apache.flink.configuration (each jar is scanned). */
    private static final List<String> ANCHOR_CLASSES = List.of(
            "org.apache.flink.configuration.CoreOptions",
            "org.apache.flink.runtime.jobgraph.SavepointConfigOptions",
            "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment",
            "org.apache.flink.client.cli.ClientOptions",
            "org.apache.flink.state.rocksdb.RocksDBOptions",
            "org.apache.flink.contrib.streaming.state.RocksDBOptions",
            "org.apache.flink.state.forst.ForStOptions");

    private static volatile Map<String, ConfigOption<?>> flinkOptions;

    private KnownOptions() {}

    /** A bad command line: one line saying what is wrong. */
    public static final class InvalidOptionException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public InvalidOptionException(String message) {
            super(message);
        }
    }

    /**
     * Checks {@code --key value} options: every key known, every value of a known option parseable.
     *
     * @param extraKeys keys the caller handles itself (e.g. the CLI's own flags)
     * @throws InvalidOptionException with one line naming the first problem
     */
    public static void check(Map<String, String> given, Set<String> extraKeys) {
        Map<String, ConfigOption<?>> known = known();
        for (Map.Entry<String, String> e : given.entrySet()) {
            String key = e.getKey();
            if (extraKeys.contains(key) || PASS_THROUGH_PREFIXES.stream().anyMatch(key::startsWith)) {
                continue;
            }
            ConfigOption<?> option = known.get(key);
            if (option == null) {
                throw new InvalidOptionException("unknown option --" + key + " (did you mean --"
                        + nearest(key, known.keySet(), extraKeys) + "?)");
            }
            checkValue(option, key, e.getValue());
        }
        if (given.containsKey(JobOptions.FRAMES_MAX_BYTES.key())) {
            try {
                RecordSizes.checked(Configuration.fromMap(given).get(JobOptions.FRAMES_MAX_BYTES));
            } catch (IllegalArgumentException ex) {
                throw new InvalidOptionException(ex.getMessage());
            }
        }
        if (given.containsKey(JobOptions.MASKS_MAX_BYTES.key())) {
            try {
                RecordSizes.checkedMasks(Configuration.fromMap(given).get(JobOptions.MASKS_MAX_BYTES));
            } catch (IllegalArgumentException ex) {
                throw new InvalidOptionException(ex.getMessage());
            }
        }
    }

    /** What Flink's ParameterTool stores for {@code --key} without a value. */
    private static final String NO_VALUE = "__NO_VALUE_KEY";

    private static void checkValue(ConfigOption<?> option, String key, String value) {
        if (NO_VALUE.equals(value)) {
            throw new InvalidOptionException("--" + key + " needs a value: expected " + expected(option));
        }
        try {
            Configuration c = new Configuration();
            c.setString(key, value);
            c.get(option);
        } catch (RuntimeException ex) {
            throw new InvalidOptionException("--" + key + ": '" + value + "' is not valid: expected "
                    + expected(option));
        }
    }

    /** Job options first (they win a tie for the nearest key), then Flink's. */
    static Map<String, ConfigOption<?>> known() {
        Map<String, ConfigOption<?>> m = new LinkedHashMap<>();
        for (ConfigOption<?> o : JobOptions.all()) {
            m.put(o.key(), o);
        }
        flinkOptions().forEach(m::putIfAbsent);
        return m;
    }

    /** The known key nearest to {@code key} (Levenshtein distance; the first of equals, so job options win). */
    static String nearest(String key, Iterable<String> known, Set<String> extra) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        List<String> all = new ArrayList<>();
        known.forEach(all::add);
        all.addAll(extra);
        for (String k : all) {
            int d = distance(key, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best;
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** What a value of the option looks like, in words. */
    static String expected(ConfigOption<?> option) {
        Class<?> type = typeOf(option);
        String what;
        if (type == null) {
            what = "a value of this option's type";
        } else if (type == Integer.class || type == Long.class) {
            what = "a whole number";
        } else if (type == Double.class || type == Float.class) {
            what = "a number";
        } else if (type == Boolean.class) {
            what = "true or false";
        } else if (type == Duration.class) {
            what = "a duration such as 500 ms, 2 s or 1 min";
        } else if (type == MemorySize.class) {
            what = "a size such as 512 kb, 64 mb or 1 gb";
        } else if (type.isEnum()) {
            List<String> names = new ArrayList<>();
            for (Object c : type.getEnumConstants()) {
                names.add(c.toString().toLowerCase(Locale.ROOT));
            }
            what = "one of " + String.join(" | ", names);
        } else if (type == Map.class) {
            what = "key:value pairs separated by ','";
        } else {
            what = "a " + type.getSimpleName();
        }
        return isList(option) ? "a ';'-separated list of " + what : what;
    }

    private static Class<?> typeOf(ConfigOption<?> option) {
        try {
            Method m = ConfigOption.class.getDeclaredMethod("getClazz");
            m.setAccessible(true);
            return (Class<?>) m.invoke(option);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return option.hasDefaultValue() && option.defaultValue() != null ? option.defaultValue().getClass() : null;
        }
    }

    private static boolean isList(ConfigOption<?> option) {
        try {
            Method m = ConfigOption.class.getDeclaredMethod("isList");
            m.setAccessible(true);
            return (Boolean) m.invoke(option);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** Every ConfigOption Flink declares in the jars on this classpath, by key (fallback keys included). */
    static Map<String, ConfigOption<?>> flinkOptions() {
        Map<String, ConfigOption<?>> m = flinkOptions;
        if (m != null) {
            return m;
        }
        m = new LinkedHashMap<>();
        ClassLoader loader = KnownOptions.class.getClassLoader();
        Set<String> jars = new LinkedHashSet<>();
        for (String anchor : ANCHOR_CLASSES) {
            try {
                CodeSource src = Class.forName(anchor, false, loader).getProtectionDomain().getCodeSource();
                if (src != null && src.getLocation() != null) {
                    jars.add(new File(src.getLocation().toURI()).getPath());
                }
            } catch (ReflectiveOperationException | LinkageError | RuntimeException | java.net.URISyntaxException e) {
                // that part of Flink is not on this classpath
            }
        }
        for (String jar : jars) {
            for (String className : optionClasses(jar)) {
                collect(className, loader, m);
            }
        }
        flinkOptions = m;
        return m;
    }

    /** Classes named *Options under org/apache/flink in a jar or classes directory. */
    private static List<String> optionClasses(String path) {
        List<String> r = new ArrayList<>();
        File f = new File(path);
        if (f.isDirectory()) {
            try (var walk = java.nio.file.Files.walk(f.toPath())) {
                walk.map(p -> f.toPath().relativize(p).toString().replace(File.separatorChar, '/'))
                        .filter(KnownOptions::isOptionClass).forEach(n -> r.add(className(n)));
            } catch (java.io.IOException e) {
                // unreadable: nothing from there
            }
            return r;
        }
        try (JarFile jar = new JarFile(f)) {
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                String n = entries.nextElement().getName();
                if (isOptionClass(n)) {
                    r.add(className(n));
                }
            }
        } catch (java.io.IOException e) {
            // unreadable: nothing from there
        }
        return r;
    }

    private static boolean isOptionClass(String entry) {
        return entry.startsWith("org/apache/flink/") && entry.endsWith("Options.class") && !entry.contains("$")
                && !NOT_LOADED.contains(className(entry));
    }

    private static String className(String entry) {
        return entry.substring(0, entry.length() - ".class".length()).replace('/', '.');
    }

    private static void collect(String className, ClassLoader loader, Map<String, ConfigOption<?>> m) {
        Class<?> c;
        try {
            c = Class.forName(className, true, loader);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return;
        }
        for (Field f : c.getFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || !ConfigOption.class.isAssignableFrom(f.getType())) {
                continue;
            }
            try {
                ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                if (o == null) {
                    continue;
                }
                m.putIfAbsent(o.key(), o);
                for (FallbackKey k : o.fallbackKeys()) {
                    m.putIfAbsent(k.getKey(), o);
                }
            } catch (IllegalAccessException | RuntimeException | LinkageError e) {
                // skip the field
            }
        }
    }

}
