"""deploy/kubernetes runs the images, queues, commands and settings the code and compose have."""
import pytest
import yaml
from django.conf import settings

from inference.tasks import classify_batch
from tests.deploy_checks import (
    APP_IMAGES, PROJECT_ROOT, celery_queues, command_problems, image_name, known_variables, url_host, worker_queues,
)

MANIFEST_DIR = PROJECT_ROOT / "deploy" / "kubernetes"
KUSTOMIZATION = yaml.safe_load((MANIFEST_DIR / "kustomization.yaml").read_text())
RESOURCES = [document for name in KUSTOMIZATION["resources"] for document in yaml.safe_load_all((MANIFEST_DIR / name).read_text()) if document]
SECRET_EXAMPLE = yaml.safe_load((MANIFEST_DIR / "secret.example.yaml").read_text())
COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def of_kind(kind):
    return {document["metadata"]["name"]: document for document in RESOURCES if document["kind"] == kind}


CONFIG = of_kind("ConfigMap")["sofar-config"]["data"]
CACHE = of_kind("Deployment").pop("sofar-cache")
DEPLOYMENTS = {name: deployment for name, deployment in of_kind("Deployment").items() if deployment is not CACHE}
SCALED_OBJECTS = of_kind("ScaledObject")
WORKLOADS = {**DEPLOYMENTS, **of_kind("Job")}


def containers(workload):
    return workload["spec"]["template"]["spec"]["containers"]


def environment_of(container):
    """Return the variables a container gets from its config map, secret and own env."""
    environment = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            assert source["configMapRef"]["name"] == "sofar-config"
            environment.update(CONFIG)
        if "secretRef" in source:
            assert source["secretRef"]["name"] == SECRET_EXAMPLE["metadata"]["name"]
            environment.update(SECRET_EXAMPLE["stringData"])
    environment.update({item["name"]: item["value"] for item in container.get("env", [])})
    return environment


def test_kustomization_applies_every_manifest():
    listed = set(KUSTOMIZATION["resources"])
    on_disk = {path.name for path in MANIFEST_DIR.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}

    assert listed == on_disk


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_kubernetes_workload_uses_app_image_and_known_settings(name):
    for container in containers(WORKLOADS[name]):
        environment = environment_of(container)

        assert image_name(container["image"]) in APP_IMAGES
        assert command_problems(container["command"]) == []
        assert set(environment) - known_variables() == set()
        assert environment["DJANGO_SETTINGS_MODULE"] == "sofar_site.settings.production"
        assert {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "AWS_STORAGE_BUCKET_NAME"} <= set(environment)


def test_kubernetes_images_are_the_compose_images():
    compose_images = {service["image"] for service in COMPOSE["services"].values() if image_name(service.get("image", "")) in APP_IMAGES}
    manifest_images = {container["image"] for workload in WORKLOADS.values() for container in containers(workload)}

    assert manifest_images == compose_images
    assert {image["name"] for image in KUSTOMIZATION["images"]} == APP_IMAGES


def test_kubernetes_workers_consume_every_queue():
    consumed = set()
    for deployment in DEPLOYMENTS.values():
        consumed |= worker_queues(containers(deployment)[0]["command"]) or set()

    assert consumed == celery_queues()


def test_keda_scales_batch_workers_to_zero():
    batch_queue = settings.CELERY_TASK_ROUTES[classify_batch.name]["queue"]
    scaled = SCALED_OBJECTS["sofar-worker-inference"]
    broker_host, broker_port = url_host(CONFIG["CELERY_BROKER_URL"])
    broker_database = CONFIG["CELERY_BROKER_URL"].rsplit("/", 1)[-1]

    assert scaled["spec"]["minReplicaCount"] == 0
    assert batch_queue in {trigger["metadata"]["listName"] for trigger in scaled["spec"]["triggers"]}
    for trigger in scaled["spec"]["triggers"]:
        assert trigger["type"] == "redis"
        assert trigger["metadata"]["address"] == f"{broker_host}:{broker_port}"
        assert trigger["metadata"]["databaseIndex"] == broker_database


@pytest.mark.parametrize("name", ["sofar-worker-inference", "sofar-worker-inference-gpu"])
def test_keda_triggers_cover_consumed_queues(name):
    """A pool scaled to zero must have a trigger on each of its queues, or those tasks wait forever."""
    scaled = SCALED_OBJECTS[name]
    target = DEPLOYMENTS[scaled["spec"]["scaleTargetRef"]["name"]]
    triggered = {trigger["metadata"]["listName"] for trigger in scaled["spec"]["triggers"]}

    assert worker_queues(containers(target)[0]["command"]) == triggered


def test_beat_queues_have_always_up_worker():
    """Beat's tasks must not wait for a pool scaled to zero, nor keep one from scaling down."""
    scaled_targets = {scaled["spec"]["scaleTargetRef"]["name"] for scaled in SCALED_OBJECTS.values()}
    always_up = set()
    for name, deployment in DEPLOYMENTS.items():
        if name not in scaled_targets and deployment["spec"]["replicas"] >= 1:
            always_up |= worker_queues(containers(deployment)[0]["command"]) or set()

    beat_queues = {
        settings.CELERY_TASK_ROUTES.get(entry["task"], {}).get("queue", settings.CELERY_TASK_DEFAULT_QUEUE)
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }

    assert beat_queues <= always_up
    for scaled in SCALED_OBJECTS.values():
        assert beat_queues.isdisjoint(trigger["metadata"]["listName"] for trigger in scaled["spec"]["triggers"])


def test_inference_workers_outlive_longest_batch():
    for name in ("sofar-worker-inference", "sofar-worker-inference-gpu"):
        grace = DEPLOYMENTS[name]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]

        assert grace > classify_batch.time_limit


def test_gpu_worker_requests_gpu_node():
    pod = DEPLOYMENTS["sofar-worker-inference-gpu"]["spec"]["template"]["spec"]
    container = pod["containers"][0]

    assert pod["nodeSelector"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert image_name(container["image"]) == "sofar/app-gpu"
    assert environment_of(container)["SOFAR_DEVICE"] == "cuda"


def test_one_beat_replaced_not_rolled():
    beats = [deployment for deployment in DEPLOYMENTS.values() if "beat" in containers(deployment)[0]["command"]]

    assert len(beats) == 1
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"]["type"] == "Recreate"


def test_migration_job_migrates():
    job = of_kind("Job")["sofar-migrate"]

    assert containers(job)[0]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_cache_redis_evicts_apart_from_broker():
    """An LRU cache on the broker's Redis could evict queued tasks; a cache without a limit fills memory."""
    service = of_kind("Service")["sofar-cache"]
    container = containers(CACHE)[0]
    arguments = " ".join(container["args"])

    assert image_name(container["image"]) == "redis"
    assert "--maxmemory-policy allkeys-lru" in arguments
    assert service["spec"]["selector"] == CACHE["spec"]["template"]["metadata"]["labels"]
    assert url_host(CONFIG["SOFAR_CACHE_URL"])[0] == "sofar-cache.sofar.svc.cluster.local"
    assert url_host(CONFIG["SOFAR_CACHE_URL"])[0] != url_host(CONFIG["CELERY_BROKER_URL"])[0]
