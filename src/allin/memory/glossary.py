"""What common technologies are, for the vectors of memories.

A memory names things ("User's team's services use Flask"), while questions ask by kind ("what
framework do we use?"). A small sentence-embedding model does not know that Flask is a framework:
on all-MiniLM-L6-v2 those two are 0.11 similar, below any useful threshold. Embedding the memory
with a gloss of each technology it names ("Flask is a Python web framework") brings them to 0.40,
and "which database do we use?" to a PostgreSQL memory from 0.29 to 0.61. Only vectors get the
gloss (of memories, and of searches, so a duplicate check compares like with like); the memory's
text stays as the user said it.
"""

from __future__ import annotations

import re
from functools import cache

_KINDS: dict[str, tuple[str, ...]] = {
    "a Python web framework": ("Flask", "Django", "FastAPI", "Pyramid", "Tornado", "Starlette"),
    "a JavaScript web framework": ("Express", "Next.js", "NestJS", "Nuxt", "Remix", "Koa"),
    "a frontend framework for web user interfaces": (
        *("React", "Vue", "Angular", "Svelte", "SolidJS", "Ember"),
    ),
    "a Ruby web framework": ("Rails", "Ruby on Rails", "Sinatra"),
    "a Java web framework": ("Spring", "Spring Boot", "Quarkus", "Micronaut"),
    "a Go web framework": ("Gin", "Echo", "Fiber"),
    "a PHP web framework": ("Laravel", "Symfony"),
    "a .NET web framework": ("ASP.NET",),
    "a programming language": (
        *("Python", "Java", "Go", "Golang", "Rust", "Ruby", "PHP", "JavaScript", "TypeScript"),
        *("Kotlin", "Scala", "Elixir", "Swift", "C#", "C++", "Haskell", "Clojure", "Erlang"),
    ),
    "a relational SQL database": (
        *("PostgreSQL", "Postgres", "MySQL", "MariaDB", "SQLite", "SQL Server", "CockroachDB"),
    ),
    "a NoSQL database": ("MongoDB", "Cassandra", "DynamoDB", "CouchDB", "Firestore", "Neo4j"),
    "an in-memory data store and cache": ("Redis", "Memcached", "Valkey"),
    "a search engine": ("Elasticsearch", "OpenSearch", "Solr", "Meilisearch"),
    "a message queue and event streaming platform": (
        *("Kafka", "RabbitMQ", "SQS", "NATS", "Pulsar", "Kinesis"),
    ),
    "a background task queue": ("Celery", "Sidekiq", "RQ", "Resque"),
    "a container tool": ("Docker", "Podman", "containerd"),
    "a container orchestration and deployment platform": (
        *("Kubernetes", "k8s", "Nomad", "OpenShift", "ECS", "EKS", "GKE", "AKS"),
    ),
    "a cloud hosting platform": (
        *("AWS", "GCP", "Google Cloud", "Azure", "Heroku", "Vercel", "Netlify"),
        *("DigitalOcean", "Supabase", "Firebase", "Cloudflare", "Fly.io", "Render"),
    ),
    "a CI/CD system for builds, tests and deployment": (
        *("Jenkins", "GitHub Actions", "GitLab CI", "CircleCI", "Travis CI", "Buildkite"),
        *("Argo CD", "ArgoCD", "TeamCity", "Drone"),
    ),
    "an infrastructure-as-code tool": (
        *("Terraform", "Pulumi", "Ansible", "CloudFormation", "Helm", "Chef", "Puppet"),
    ),
    "version control and code hosting": ("Git", "GitHub", "GitLab", "Bitbucket", "Mercurial"),
    "a monitoring, logging and observability tool": (
        *("Prometheus", "Grafana", "Datadog", "Sentry", "New Relic", "OpenTelemetry"),
        *("Splunk", "Kibana", "Honeycomb", "PagerDuty"),
    ),
    "a testing framework": (
        *("pytest", "unittest", "Jest", "Mocha", "Vitest", "Cypress", "Playwright"),
        *("Selenium", "JUnit", "RSpec", "Minitest"),
    ),
    "an issue tracker and project management tool": ("Jira", "Linear", "Asana", "Trello"),
    "a team chat tool": ("Slack", "Microsoft Teams", "Discord", "Mattermost"),
    "a package manager and build tool": (
        *("npm", "yarn", "pnpm", "pip", "Poetry", "uv", "Maven", "Gradle", "Bazel"),
        *("webpack", "Vite", "Cargo", "Make"),
    ),
    "a code editor and IDE": ("VS Code", "Vim", "Neovim", "Emacs", "IntelliJ", "PyCharm"),
    "an API technology": ("GraphQL", "gRPC", "OpenAPI", "REST"),
    "an ORM database library": ("SQLAlchemy", "Prisma", "Hibernate", "ActiveRecord"),
    "a data processing and analytics tool": (
        *("Spark", "Airflow", "dbt", "Snowflake", "BigQuery", "pandas", "Databricks"),
    ),
    "an operating system": ("Linux", "Ubuntu", "Debian", "macOS", "Windows"),
}


# Names that are also everyday words count only when written as here ("Go", not "go to work");
# the others in any case ("flask", "kubernetes").
_WORDS_TOO = frozenset(
    {"Go", "Make", "Express", "Spring", "Echo", "Gin", "Fiber", "Rails", "React", "Render"}
    | {"Drone", "Chef", "Puppet", "Linear", "Spark", "Windows", "REST", "Swift", "Rust", "Ruby"}
    | {"Remix", "Ember", "Slack", "Microsoft Teams", "Discord", "Helm", "Kinesis", "Pulsar"}
)


@cache
def _glossary() -> tuple[re.Pattern[str], dict[str, str]]:
    kinds: dict[str, str] = {}
    alternatives = []
    for kind, names in _KINDS.items():
        for name in names:
            kinds[name.casefold()] = kind
            escaped = re.escape(name)
            alternatives.append(escaped if name in _WORDS_TOO else f"(?i:{escaped})")
    # Longest first, so "Spring Boot" wins over "Spring"; names like "C#" end in a non-word
    # character, hence the look-arounds instead of \b.
    alternatives.sort(key=len, reverse=True)
    pattern = re.compile(r"(?<![\w.])(" + "|".join(alternatives) + r")(?![\w#+])")
    return pattern, kinds


def gloss(text: str) -> str:
    """`text`, followed by what each technology it names is (once each, in order)."""
    pattern, kinds = _glossary()
    seen: dict[str, str] = {}
    for found in pattern.finditer(text):
        name = found[1]
        seen.setdefault(name.casefold(), f"{name} is {kinds[name.casefold()]}.")
    if not seen:
        return text
    return " ".join([text.rstrip(" .") + ".", *seen.values()])
