"""What the deployment tests compare the compose file and the Kubernetes manifests with.

The environment variables the settings read are found in the settings' source, so a
variable renamed in the code and not in a manifest fails the tests.
"""
import ast
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management import get_commands

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_DIR = PROJECT_ROOT / "sofar_site" / "settings"
APP_IMAGES = {"sofar/app", "sofar/app-gpu"}
ENV_READERS = {"env_str", "env_int", "env_bool", "env_list"}
# Variables that a library reads rather than our settings.
LIBRARY_VARIABLES = {
    "DJANGO_SETTINGS_MODULE": "Django",
    "AWS_ACCESS_KEY_ID": "boto3",
    "AWS_SECRET_ACCESS_KEY": "boto3",
    "OMP_NUM_THREADS": "PyTorch and ONNX Runtime thread pools",
}


def settings_variables():
    """Return the names of the environment variables the settings modules read."""
    names = set()
    for path in SETTINGS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
                continue
            function = node.func
            called = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            if called in ENV_READERS or (called == "get" and "environ" in ast.unparse(function)):
                names.add(node.args[0].value)
    return names


def known_variables():
    return settings_variables() | set(LIBRARY_VARIABLES)


def celery_queues():
    """Return every queue a task can land on: the routed ones and the default."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return routed | {settings.CELERY_TASK_DEFAULT_QUEUE}


def image_name(image):
    return image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image


def worker_queues(command):
    """Return the queues of a `celery worker` command, or None when it is not one."""
    arguments = list(command) if isinstance(command, list) else shlex.split(command)
    if arguments[:1] != ["celery"] or "worker" not in arguments:
        return None
    if "--queues" in arguments:
        return set(arguments[arguments.index("--queues") + 1].split(","))
    if "-Q" in arguments:
        return set(arguments[arguments.index("-Q") + 1].split(","))
    return {settings.CELERY_TASK_DEFAULT_QUEUE}


def command_problems(command):
    """Return what is wrong with a container command of the app image (empty when nothing)."""
    arguments = list(command) if isinstance(command, list) else shlex.split(command)
    program = arguments[0]
    if program == "celery":
        if arguments[1:3] != ["-A", "sofar_site"]:
            return [f"{arguments}: the Celery app is `-A sofar_site`"]
        if not {"worker", "beat"} & set(arguments):
            return [f"{arguments}: neither a worker nor beat"]
        unknown = (worker_queues(arguments) or set()) - celery_queues()
        return [f"{arguments}: no task is routed to queues {sorted(unknown)}"] if unknown else []
    if program == "gunicorn":
        module, _, attribute = arguments[1].partition(":")
        path = PROJECT_ROOT / (module.replace(".", "/") + ".py")
        if not path.exists() or f"{attribute} =" not in path.read_text():
            return [f"{arguments}: {arguments[1]} is not a WSGI application of this project"]
        return []
    if arguments[:2] == ["python", "manage.py"]:
        return [] if arguments[2] in get_commands() else [f"{arguments}: no management command {arguments[2]}"]
    return [f"{arguments}: unknown program {program}"]


INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<kind>:-|:\?)(?P<word>[^}]*))?\}")


def interpolate(value, environment):
    """Expand compose's ${NAME}, ${NAME:-default} and ${NAME:?message} from `environment`."""

    def replace(match):
        name, kind, word = match["name"], match["kind"], match["word"]
        if environment.get(name):
            return environment[name]
        if kind == ":?":
            raise KeyError(f"{name} is required: {word}")
        return word if kind == ":-" else ""

    return INTERPOLATION.sub(replace, str(value)).replace("$$", "$")


def url_host(url):
    parsed = urlparse(url)
    return parsed.hostname, parsed.port
