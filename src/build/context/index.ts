/**
 * The build context, for the executor: open it (directory, stdin, tarball), the .dockerignore
 * matcher, COPY sources resolved inside it, named --build-contexts. See docs/ARCHITECTURE.md
 * ("Build: the front end").
 */
export { openBuildContext, type BuildContext, type ContextOptions } from './build-context';
export { parseDockerignore, PathMatcher, readIgnoreFile } from './dockerignore';
export { contextPath, listTree, resolveCopySources, resolveInContext, type ContextFile, type ContextFiles, type CopySource } from './sources';
export { openNamedDirectory, parseBuildContextFlag, parseBuildContextFlags, type NamedContext } from './named-contexts';
