// `npm run bench:fleet -- --agents N [--hub node|workers] [--quick]`: the fleet benchmark, one JSON document on stdout.
import { runFleetBenchCommand } from "./fleet-command.ts";

await runFleetBenchCommand(process.argv.slice(2));
