"""A Python program with the generated Python SDK, run by test/cli/generated-sdks.test.ts through
Pulumi's Python Automation API with an inline program (no language host): `python program.py up|destroy`
in the venv of `npm run sdk:gen`. Stack config comes from CAPYDB_SDK_TEST_* (the API key set as a
secret); the backend, passphrase and PULUMI_HOME from the usual PULUMI_* variables. Prints one JSON
line: the outputs with their secret flags, and the changes."""
import json
import os
import sys

import pulumi
import pulumi_capydb as capydb
from pulumi import automation as auto


def program() -> None:
    db = capydb.PreviewDatabase(
        "db",
        project_id=os.environ["CAPYDB_SDK_TEST_PROJECT_ID"],
        name="python-sdk",
        ttl_hours=24,
    )
    pulumi.export("previewId", db.id)
    pulumi.export("name", db.name)
    pulumi.export("state", db.state)
    pulumi.export("host", db.host)
    pulumi.export("directUrl", db.direct_url)
    pulumi.export("password", db.password)
    # The plugin's invoke, reading back the preview just made (after it exists: the name is its output).
    found = capydb.get_preview_database_output(project_id=db.project_id, name=db.name)
    pulumi.export("lookedUpId", found.id)
    pulumi.export("lookedUpDirectUrl", found.direct_url)


def main(command: str) -> dict:
    stack = auto.create_or_select_stack(stack_name="dev", project_name="capydb-python-sdk", program=program)
    stack.set_all_config(
        {
            "capydb:apiKey": auto.ConfigValue(value=os.environ["CAPYDB_SDK_TEST_API_KEY"], secret=True),
            "capydb:apiUrl": auto.ConfigValue(value=os.environ["CAPYDB_SDK_TEST_API_URL"]),
        }
    )
    if command == "up":
        result = stack.up()
        outputs = {name: {"value": out.value, "secret": out.secret} for name, out in result.outputs.items()}
        return {"outputs": outputs, "changes": result.summary.resource_changes}
    if command == "destroy":
        result = stack.destroy()
        return {"changes": result.summary.resource_changes}
    raise SystemExit(f"usage: program.py up|destroy (got {command!r})")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "")))
