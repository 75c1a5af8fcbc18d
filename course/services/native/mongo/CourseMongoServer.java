// The course's MongoDB-compatible server for machines without Docker (see course/services/native/mongo.py).
//
// Serves mongo-java-server (https://github.com/bwaldvogel/mongo-java-server) with:
//   - the H2 MVStore backend writing to one file, so data survives a stop and start (or an in-memory
//     store when the file argument is "memory");
//   - the oplog enabled, so change streams work;
//   - a reported version of MongoDB 4.4 / wire version 9: the library's own choices report wire
//     version 8 at most, and PyMongo 4.18+ refuses any server below 9;
//   - buildInfo extended with a "compatibleServer" field naming the library, so clients (our probe)
//     can tell it from genuine MongoDB without guessing.
//
// mongo.py compiles it once (javac -d <classes> -cp '<lib>/*') and runs
//   java -cp '<classes>:<lib>/*' CourseMongoServer <host> <port> <file|memory>
// Source-file mode works too, recompiling on every start: java -cp '<lib>/*' CourseMongoServer.java …

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.h2.mvstore.MVStore;

public class CourseMongoServer {

    /** MongoDB 4.4: the oldest server PyMongo 4.18+ accepts, and a fair claim for what the library does. */
    static final MongoVersion MONGO_4_4 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    /** H2Backend that says what it is in buildInfo. */
    static final class CourseBackend extends H2Backend {
        private final String label;

        CourseBackend(MVStore store, String label) {
            super(store);
            this.label = label;
        }

        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            if (command.equals("hello")) {
                // MongoDB 4.4.2+ answers `hello` (isMaster's successor); the library only knows isMaster.
                Document response = super.handleCommand(channel, database, "isMaster", query);
                response.put("isWritablePrimary", response.get("ismaster"));
                response.remove("ismaster");
                return response;
            }
            Document response = super.handleCommand(channel, database, command, query);
            if (command.equalsIgnoreCase("buildinfo") && response != null) {
                response.put("compatibleServer", label);
            }
            if (command.equals("aggregate") && response != null && isChangeStream(query)
                    && !response.containsKey("operationTime")) {
                // PyMongo requires operationTime on a change stream's first reply (it is its resume
                // point); the library leaves it out. The start of the current second is a safe
                // lower bound: a resume from it may repeat events, never skip one.
                response.put("operationTime", new BsonTimestamp(getClock().instant(), 0));
            }
            return response;
        }
    }

    /** The library's version, from its jar's name (its manifest carries none): "1.47.0". */
    static String libraryVersion() {
        String jar = MongoServer.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        Matcher match = Pattern.compile("mongo-java-server-core-([^/]+)\\.jar$").matcher(jar);
        return match.find() ? match.group(1) : "unknown version";
    }

    static boolean isChangeStream(Document aggregate) {
        Object pipeline = aggregate.get("pipeline");
        return pipeline instanceof List<?> stages && !stages.isEmpty()
                && stages.get(0) instanceof Document first && first.containsKey("$changeStream");
    }

    public static void main(String[] args) {
        String host = args.length > 0 ? args[0] : "127.0.0.1";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 17017;
        String file = args.length > 2 ? args[2] : "memory";

        String label = "mongo-java-server " + libraryVersion();

        // MVStore.open(file) commits in the background about once a second; close() on shutdown
        // writes the rest, so a SIGTERM loses nothing and a SIGKILL at most the last second.
        MVStore store = file.equals("memory") ? MVStore.open(null) : MVStore.open(file);
        CourseBackend backend = new CourseBackend(store, label);
        backend.version(MONGO_4_4);

        MongoServer server = new MongoServer(backend);
        server.enableOplog();
        server.bind(host, port);
        System.out.println("CourseMongoServer: " + label + " (reports MongoDB 4.4, wire version 9) listening on "
                + host + ":" + port + ", data: " + file);
        System.out.flush();

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("CourseMongoServer: shutting down");
            // shutdownNow closes the backend, which closes (and so flushes) the MVStore.
            server.shutdownNow();
        }));
    }
}
