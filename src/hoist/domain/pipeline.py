"""Which CI run is acting, read from the variables GitHub Actions, GitLab CI and Jenkins set."""

from __future__ import annotations

from collections.abc import Mapping

from hoist.domain.models import Pipeline


def pipeline_from_environment(env: Mapping[str, str]) -> Pipeline | None:
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo = env.get("GITHUB_REPOSITORY")
        run = env["GITHUB_RUN_ID"]
        return Pipeline(
            provider="github-actions",
            id=run,
            url=f"{server}/{repo}/actions/runs/{run}" if repo else None,
            project=repo,
            commit=env.get("GITHUB_SHA"),
            ref=env.get("GITHUB_REF"),
            job=env.get("GITHUB_WORKFLOW"),
        )
    if env.get("GITLAB_CI") == "true" and env.get("CI_PIPELINE_ID"):
        return Pipeline(
            provider="gitlab-ci",
            id=env["CI_PIPELINE_ID"],
            url=env.get("CI_PIPELINE_URL"),
            project=env.get("CI_PROJECT_PATH"),
            commit=env.get("CI_COMMIT_SHA"),
            ref=env.get("CI_COMMIT_REF_NAME"),
            job=env.get("CI_JOB_NAME"),
        )
    if env.get("JENKINS_URL") and env.get("BUILD_NUMBER"):
        return Pipeline(
            provider="jenkins",
            id=f"{env.get('JOB_NAME', 'job')}#{env['BUILD_NUMBER']}",
            url=env.get("BUILD_URL"),
            project=env.get("JOB_NAME"),
            commit=env.get("GIT_COMMIT"),
            ref=env.get("GIT_BRANCH"),
            job=env.get("JOB_NAME"),
        )
    return None


def pipeline_from_option(text: str) -> Pipeline:
    """``--pipeline`` overrides detection: ``PROVIDER:ID``, a URL, or just an id (provider ``manual``)."""
    if "://" in text:
        return Pipeline(provider="manual", id=text, url=text)
    provider, sep, ident = text.partition(":")
    if sep and provider and ident and "/" not in provider:
        return Pipeline(provider=provider, id=ident)
    return Pipeline(provider="manual", id=text)
