"""Starts moto server for the tests, with one fix to its debug endpoint.

`GET /moto-api/data.json` (the tests read IAM login passwords from it) fails with HTTP 500 once a Lambda function
exists on a machine without docker: reading the function's `docker_client` attribute raises DockerException, which
moto's serialiser does not catch. This wrapper skips attributes that raise anything. Everything else is moto as is.
Usage: python tests/support/moto_server.py -H 127.0.0.1 -p PORT
"""
import json
import sys

from moto.moto_api._internal.responses import MotoAPIResponse


def _model_data(self, request, full_url, headers):
    from moto.core.model_instances import model_data

    results = {}
    for service in sorted(model_data):
        models = model_data[service]
        results[service] = {}
        for name in sorted(models):
            results[service][name] = []
            for instance in models[name].instances_tracked:
                fields = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except Exception:  # noqa: BLE001 - skip whatever cannot be read or serialised
                        continue
                    fields[attr] = value
                results[service][name].append(fields)
    return 200, {"Content-Type": "application/javascript"}, json.dumps(results)


MotoAPIResponse.model_data = _model_data

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
