// The basic demo. It is being built (issue: the main job); until then it says so and exits cleanly.
console.log("mcpauth demo: not built yet — the orchestrator and the sandbox are landing package by package.")
console.log("Run ./run test to see what exists and passes today.")
