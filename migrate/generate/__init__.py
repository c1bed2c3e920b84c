"""`hyperdock generate`: container definitions and a capacity plan from plan.json."""
