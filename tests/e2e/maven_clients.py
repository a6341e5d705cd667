"""Real Maven and Gradle clients against a Maven repository URL (REAL_CLIENTS.md §11).

Maven Central is unreachable here: only plugins already in ``~/.m2`` run, so every plugin is pinned.
Maven 3.8 has one local repository, ``~/.m2`` (where those plugins live), so each test deploys under a
groupId of its own (``Library.group``) and removes that group from ``~/.m2`` afterwards: a copy left
there would let a later resolve succeed without asking the server.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.conftest import missing

DEPLOY_PLUGIN = "org.apache.maven.plugins:maven-deploy-plugin:3.1.2"
LOCAL_REPOSITORY = Path.home() / ".m2" / "repository"
SERVER_ID = "hoist"


def tool(name: str, install: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed ({install})")
        raise AssertionError("unreachable")
    return path


def run(args: list[str], cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if ok and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    return done


@dataclass(frozen=True)
class Library:
    """A real jar (one compiled class) with Maven's ``pom.properties`` inside, as ``mvn package`` makes."""

    group: str
    artifact: str
    version: str
    jar: Path

    @property
    def coordinates(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"

    @property
    def java_package(self) -> str:
        return self.group

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jar.read_bytes()).hexdigest()


@pytest.fixture(name="library")
def library_fixture(tmp_path: Path) -> Iterator[Library]:
    """A fresh ``<group>:shop-core:1.4.0`` jar; its group is removed from ``~/.m2`` afterwards."""
    group = f"hoiste2e.t{secrets.token_hex(4)}"
    yield build_library(tmp_path / "library", group, "shop-core", "1.4.0")
    shutil.rmtree(LOCAL_REPOSITORY / group.replace(".", "/"), ignore_errors=True)


def build_library(where: Path, group: str, artifact: str, version: str, greeting: str = "hello") -> Library:
    jdk = "apt-get install -y default-jdk-headless"
    javac, jar = tool("javac", jdk), tool("jar", jdk)
    source = where / "src" / group.replace(".", "/") / "Greeter.java"
    source.parent.mkdir(parents=True)
    source.write_text(
        f'package {group};\npublic final class Greeter {{ public static String hello() {{ return "{greeting}"; }} }}\n'
    )
    classes = where / "classes"
    run([javac, "--release", "11", "-d", str(classes), str(source)], cwd=where)
    meta = classes / "META-INF" / "maven" / group / artifact
    meta.mkdir(parents=True)
    meta.joinpath("pom.properties").write_text(f"groupId={group}\nartifactId={artifact}\nversion={version}\n")
    target = where / f"{artifact}-{version}.jar"
    run([jar, "--create", "--file", str(target), "-C", str(classes), "."], cwd=where)
    return Library(group, artifact, version, target)


def settings_xml(where: Path, username: str, password: str) -> Path:
    """settings.xml with the credentials for server id ``hoist`` (an API token goes in as the password)."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / "settings.xml"
    path.write_text(
        "<settings><servers><server>"
        f"<id>{SERVER_ID}</id><username>{escape(username)}</username><password>{escape(password)}</password>"
        "</server></servers></settings>\n"
    )
    return path


def deploy_file(library: Library, url: str, settings: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """``mvn deploy:deploy-file``: PUTs the jar, a generated pom, their .md5/.sha1 and maven-metadata.xml."""
    mvn = tool("mvn", "apt-get install -y maven")
    return run(
        [
            mvn, "-B", "-s", str(settings), f"{DEPLOY_PLUGIN}:deploy-file",
            f"-Dfile={library.jar}", f"-DgroupId={library.group}", f"-DartifactId={library.artifact}",
            f"-Dversion={library.version}", "-Dpackaging=jar", f"-DrepositoryId={SERVER_ID}", f"-Durl={url}",
        ],
        cwd=library.jar.parent,
        ok=ok,
    )  # fmt: skip


def consumer_project(where: Path, library: Library, url: str) -> Path:
    """A project that compiles against ``library`` resolved from ``url`` (plugins pinned: the cache has only these)."""
    where.mkdir(parents=True)
    where.joinpath("pom.xml").write_text(f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>hoiste2e.consumer</groupId><artifactId>consumer</artifactId><version>1.0.0</version>
  <properties><maven.compiler.release>11</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <repositories><repository><id>{SERVER_ID}</id><url>{escape(url)}</url></repository></repositories>
  <dependencies><dependency><groupId>{library.group}</groupId><artifactId>{library.artifact}</artifactId>
    <version>{library.version}</version></dependency></dependencies>
  <build><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId>
      <version>3.3.1</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId>
      <version>3.13.0</version></plugin>
  </plugins></build>
</project>
""")
    app = where / "src" / "main" / "java" / "consumer" / "App.java"
    app.parent.mkdir(parents=True)
    app.write_text(
        "package consumer;\npublic final class App { public static void main(String[] a) { "
        f"System.out.println({library.java_package}.Greeter.hello()); }} }}\n"
    )
    return where


def mvn_compile(project: Path, settings: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """``mvn -B -U compile``: -U so that a dependency missing before is asked for again at once."""
    mvn = tool("mvn", "apt-get install -y maven")
    return run([mvn, "-B", "-U", "-s", str(settings), "compile"], cwd=project, ok=ok)


def resolved_jar(library: Library) -> Path:
    """Where Maven put the resolved jar in its local repository."""
    return LOCAL_REPOSITORY.joinpath(*library.group.split("."), library.artifact, library.version, library.jar.name)


def gradle_resolve(where: Path, library: Library, url: str, username: str, password: str) -> Path:
    """Gradle (4.4, Debian's) resolves ``library`` from ``url`` with Basic credentials and copies it
    to ``where/out``; its own user home keeps its cache out of the machine's. Returns the copied jar."""
    gradle = tool("gradle", "apt-get install -y gradle")
    where.mkdir(parents=True)
    where.joinpath("settings.gradle").write_text("rootProject.name = 'consumer'\n")
    where.joinpath("build.gradle").write_text(f"""
repositories {{
    maven {{
        url '{url}'
        credentials {{ username '{username}'; password '{password}' }}
    }}
}}
configurations {{ lib }}
dependencies {{ lib '{library.coordinates}' }}
task fetch(type: Copy) {{
    from configurations.lib
    into 'out'
}}
""")
    run([gradle, "--no-daemon", "-q", "-g", str(where / "gradle-home"), "fetch"], cwd=where)
    return where / "out" / library.jar.name
